package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// CsvFile loads CSV files (csvFile) as one document each, through extract's bounded parser.
func (n *Nodes) CsvFile(ctx context.Context, req node.Request) (node.Value, error) {
	return n.fileLoader(ctx, req)
}
