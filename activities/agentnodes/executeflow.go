package agentnodes

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// ExecuteFlow reads the chatflow the node runs and the input it hands over; the workflow
// then runs that flow as a child workflow (its snapshot, so later edits of it do not touch
// this run).
func (s *Steps) ExecuteFlow(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	id := n.Input("executeFlowSelectedFlow")
	if id == "" {
		return node.StepResult{}, nodekit.FlowError("%s: pick the flow to execute", n)
	}
	f, err := s.Store.GetChatFlow(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return node.StepResult{}, nodekit.FlowError("%s: flow %s not found", n, id)
	}
	if err != nil {
		return node.StepResult{}, err
	}
	input := cmp.Or(strings.TrimSpace(text(req, sc, "executeFlowInput")), req.Run.Question)
	child, err := nodekit.ChildFlow(f, input)
	if err != nil {
		return node.StepResult{}, err // the workflow names the node
	}
	return node.StepResult{Input: map[string]any{"flow": f.Name, "question": input}, Child: &child}, nil
}
