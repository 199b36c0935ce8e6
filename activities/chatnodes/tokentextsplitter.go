package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// TokenTextSplitter hands on the token text splitter's settings to the loader it is wired into.
func (n *Nodes) TokenTextSplitter(_ context.Context, req node.Request) (node.Value, error) {
	return splitter(req)
}
