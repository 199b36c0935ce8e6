package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// MarkdownTextSplitter hands on the markdown text splitter's settings to the loader it is wired into.
func (n *Nodes) MarkdownTextSplitter(_ context.Context, req node.Request) (node.Value, error) {
	return splitter(req)
}
