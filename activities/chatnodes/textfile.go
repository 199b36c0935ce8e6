package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// TextFile loads text files (txtFile: data URIs, or files in storage) as documents.
func (n *Nodes) TextFile(ctx context.Context, req node.Request) (node.Value, error) {
	return n.fileLoader(ctx, req)
}
