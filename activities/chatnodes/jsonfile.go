package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// JsonFile loads JSON files (jsonFile) as one document each, through extract's bounded parser.
func (n *Nodes) JsonFile(ctx context.Context, req node.Request) (node.Value, error) { //nolint:revive // Flowise's name
	return n.fileLoader(ctx, req)
}
