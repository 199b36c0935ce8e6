package agentnodes

import (
	"cmp"
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// defaultHumanInputDescription is the question of a fixed-text node that has none, as in Flowise.
const defaultHumanInputDescription = "Do you want to proceed?"

// HumanInput writes what the run asks the user before it stops. The fixed type shows what is
// to be approved, as Flowise does: the conversation's last message (an agent's draft), a
// blank line, then the node's description. The "dynamic" type has its model write it from
// the conversation and humanInputModelPrompt (else the question). Either way it goes to a
// streaming request as it is written: the run's answer for now, whatever the node's place in
// the flow.
func (s *Steps) HumanInput(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	// The conversation so far: the session's earlier messages, then this run's.
	conversation, err := s.sessionMessages(ctx, req.Run, 0)
	if err != nil {
		return node.StepResult{}, err
	}
	conversation = append(conversation, nodekit.ToLLM(req.ChatHistory)...)
	// The widget offers a feedback box when the action's input says so.
	input := map[string]any{"messages": nodekit.FromLLM(conversation),
		"humanInputEnableFeedback": agentflow.Truthy(n.Inputs["humanInputEnableFeedback"])}
	topic := nodekit.StreamTo(true, req.Run.Stream, req.Run.Topic)

	if n.Input("humanInputDescriptionType") != "dynamic" {
		last := ""
		if len(conversation) > 0 {
			last = conversation[len(conversation)-1].Content
		}
		description := last + "\n\n" + cmp.Or(text(req, sc, "humanInputDescription"), defaultHumanInputDescription)
		if topic != "" {
			s.PublishAnswer(ctx, topic, description)
		}
		return node.StepResult{Input: input, Output: map[string]any{"content": description}}, nil
	}
	model, err := s.agentModel(n, "humanInputModel", "humanInputModelConfig")
	if err != nil {
		return node.StepResult{}, err
	}
	prompt := cmp.Or(text(req, sc, "humanInputModelPrompt"),
		"In one or two sentences, ask the user whether to proceed with this request: "+req.Run.Question)
	description, err := s.chatAnswer(ctx, nodekit.Chat{NodeID: n.ID, Model: model, StreamTo: topic,
		Messages: append(conversation, llm.Message{Role: llm.RoleUser, Content: prompt})})
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Input: input, Output: map[string]any{"content": description}}, nil
}
