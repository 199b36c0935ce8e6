package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// RecursiveCharacterTextSplitter hands on the recursive character text splitter's settings to the loader it is wired into.
func (n *Nodes) RecursiveCharacterTextSplitter(_ context.Context, req node.Request) (node.Value, error) {
	return splitter(req)
}
