package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// CharacterTextSplitter hands on the character text splitter's settings to the loader it is wired into.
func (n *Nodes) CharacterTextSplitter(_ context.Context, req node.Request) (node.Value, error) {
	return splitter(req)
}
