package agentnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/activities/tools"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// Agent is one turn of an Agent node. Without tools its model answers its messages, as
// an LLM node's does. With tools the model may ask for calls instead: the turn then returns
// the conversation and the calls, the workflow runs each call as its own activity, and the
// next turn continues the conversation with their results.
func (s *Steps) Agent(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	names := agentflow.AgentTools(req.Node)
	if len(names) == 0 {
		return s.modelStep(ctx, req, "agent")
	}
	n, sc := req.Node, scope(req)
	model, err := s.agentModel(n, "agentModel", "agentModelConfig")
	if err != nil {
		return node.StepResult{}, err
	}
	msgs := nodekit.ToLLM(req.Conversation)
	if len(msgs) == 0 {
		if msgs, err = s.nodeMessages(ctx, req, sc, "agent", model); err != nil {
			return node.StepResult{}, err
		}
	}
	offered, byName, err := s.Tools.Offer(ctx, n)
	if err != nil {
		return node.StepResult{}, err
	}
	resp, err := s.ChatWithTools(ctx, nodekit.Chat{NodeID: n.ID, Model: model, Messages: msgs}, offered)
	if err != nil {
		return node.StepResult{}, err
	}
	if len(resp.ToolCalls) > 0 {
		turn := llm.Message{Role: llm.RoleAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls}
		return node.StepResult{Conversation: nodekit.FromLLM(append(msgs, turn)), ToolCalls: tools.ResolveCalls(resp.ToolCalls, byName, req.Rejected),
			Output: map[string]any{"content": resp.Text}}, nil
	}
	// A model with tools at hand is asked without streaming: its answer goes whole.
	s.sendWhole(ctx, req, resp.Text)
	out := map[string]any{"content": resp.Text}
	state, err := withState(req, sc, "agentUpdateState", out)
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Input: map[string]any{"messages": msgs}, Output: out, State: state,
		ChatHistory: answered(req, sc, "agent", resp.Text)}, nil
}
