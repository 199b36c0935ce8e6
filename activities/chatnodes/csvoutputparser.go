package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// CSVOutputParser asks for comma separated values and answers them as a JSON array.
func (n *Nodes) CSVOutputParser(_ context.Context, req node.Request) (node.Value, error) {
	return parserValue(req, node.Parser{}), nil
}
