package agentnodes

import (
	"cmp"
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// HumanInput writes what the run asks the user before it stops: the node's fixed
// description, or with the "dynamic" type one its model writes (from humanInputModelPrompt,
// else from the question).
func (s *Steps) HumanInput(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	if n.Input("humanInputDescriptionType") != "dynamic" {
		return node.StepResult{Output: map[string]any{"content": text(req, sc, "humanInputDescription")}}, nil
	}
	model, err := s.agentModel(ctx, n, "humanInputModel", "humanInputModelConfig")
	if err != nil {
		return node.StepResult{}, err
	}
	prompt := cmp.Or(text(req, sc, "humanInputModelPrompt"),
		"In one or two sentences, ask the user whether to proceed with this request: "+req.Run.Question)
	description, err := s.Chat(ctx, nodekit.Chat{NodeID: n.ID, Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}}})
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Output: map[string]any{"content": description}}, nil
}
