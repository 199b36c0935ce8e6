package agentnodes

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// ConditionAgent lets the node's model pick the scenario that fits its input: the model
// must answer {"output": <one of the scenarios>}, and that scenario's branch runs. An answer
// that names none of them takes the last branch.
func (s *Steps) ConditionAgent(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	list, _ := n.Inputs["conditionAgentScenarios"].([]any)
	var scenarios []string
	for _, item := range list {
		m, _ := item.(map[string]any)
		if text, _ := m["scenario"].(string); strings.TrimSpace(text) != "" {
			scenarios = append(scenarios, strings.TrimSpace(sc.Resolve(text)))
		}
	}
	if len(scenarios) == 0 {
		return node.StepResult{}, nodekit.FlowError("%s: it has no scenarios to choose from", n)
	}
	model, err := s.agentModel(n, "conditionAgentModel", "conditionAgentModelConfig")
	if err != nil {
		return node.StepResult{}, err
	}
	schema, err := json.Marshal(map[string]any{"type": "object", "required": []string{"output"}, "additionalProperties": false,
		"properties": map[string]any{"output": map[string]any{"type": "string", "enum": scenarios}}})
	if err != nil {
		return node.StepResult{}, err
	}
	if model, err = nodekit.WithSchema(model, schema); err != nil {
		return node.StepResult{}, err
	}
	input := cmp.Or(strings.TrimSpace(text(req, sc, "conditionAgentInput")), req.Run.Question)
	system := text(req, sc, "conditionAgentInstructions") + "\n\nDecide which of these scenarios fits the input and answer with it as \"output\":\n- " +
		strings.Join(scenarios, "\n- ")
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: input}}
	answer, err := s.Chat(ctx, nodekit.Chat{NodeID: n.ID, Model: model, Messages: msgs})
	if err != nil {
		return node.StepResult{}, err
	}
	fields, err := agentflow.ParseStructured(answer)
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: %v", n, err)
	}
	chosen, _ := fields["output"].(string)
	branch := len(scenarios) - 1
	for i, scenario := range scenarios {
		if strings.EqualFold(strings.TrimSpace(chosen), scenario) {
			branch = i
			break
		}
	}
	return node.StepResult{Input: map[string]any{"input": input, "scenarios": scenarios},
		Output: map[string]any{"content": chosen, "output": chosen}, Branches: []int{branch}}, nil
}
