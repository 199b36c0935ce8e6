package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/zod"
	"github.com/flowgate/flowgate/workflows/node"
)

// AdvancedStructuredOutputParser asks for JSON matching the Zod schema of its Example JSON,
// read by the zod package (no JavaScript runs).
func (n *Nodes) AdvancedStructuredOutputParser(_ context.Context, req node.Request) (node.Value, error) {
	t, err := zod.Parse(req.Node.Input("exampleJson"))
	if err != nil {
		return node.Value{}, nodekit.FlowError("%s: Error parsing Zod Schema: Failed to parse Zod schema: %v", req.Node.ID, err)
	}
	return schemaParser(req, t), nil
}
