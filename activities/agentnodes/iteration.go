package agentnodes

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// Iteration reads the items an iteration node runs its child nodes for: its
// iterationInput, a JSON array written in the node or taken from a variable.
func (s *Steps) Iteration(_ context.Context, req node.StepRequest) (node.StepResult, error) {
	raw := scope(req).ResolveAny(req.Node.Inputs["iterationInput"])
	items, ok := raw.([]any)
	if !ok {
		text, _ := raw.(string)
		if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &items); err != nil {
			return node.StepResult{}, nodekit.FlowError("%s: iterationInput must be a JSON array, got %.100q", req.Node, text)
		}
	}
	return node.StepResult{Input: map[string]any{"iterationInput": items}, Output: map[string]any{"content": "", "items": items}}, nil
}
