package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
)

// Flow tools run another flow: a chatflow (ChatflowTool) or an agentflow (agentAsTool). Their
// activity only reads the flow; the workflow runs it as a child workflow, like an Execute
// Flow node, so the other flow's run is durable and visible on its own.

// flowToolSettings are the setting naming the flow, and the tool's default name and
// description, per kind.
var flowToolSettings = map[string]struct{ flowKey, name, description string }{
	agentflow.ToolChatflow: {"selectedChatflow", "chatflow_tool", "Execute another chatflow"},
	agentflow.ToolAgent:    {"selectedAgentflow", "agentflow_tool", "Execute another agentflow"},
}

func offerFlowTool(e agentflow.ToolEntry) ([]llm.Tool, error) {
	s := flowToolSettings[e.Kind]
	return []llm.Tool{{
		Name:        toolName(configString(e.Config, "name"), s.name),
		Description: cmp.Or(configString(e.Config, "description"), s.description),
		Parameters:  []byte(`{"type":"object","properties":{"input":{"type":"string","description":"input question"}},"required":["input"]}`),
	}}, nil
}

// flowTool reads the flow a flow tool runs and the question it hands over: the model's input,
// or the chat's question (useQuestionFromChat), or the configured customInput.
func (a *Activities) flowTool(ctx context.Context, req agentflow.ToolRequest) (agentflow.ChildFlow, error) {
	s, ok := flowToolSettings[req.Call.Tool]
	if !ok {
		return agentflow.ChildFlow{}, flowError("tool %s does not run a flow", req.Call.Tool)
	}
	cfg := toolConfig(req)
	id := configString(cfg, s.flowKey)
	switch {
	case id == "":
		return agentflow.ChildFlow{}, flowError("%s: select the flow to run", req.Call.Tool)
	case id == req.Run.ChatflowID:
		return agentflow.ChildFlow{}, flowError("%s: a flow cannot call itself", req.Call.Tool)
	}
	f, err := a.Store.GetChatFlow(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return agentflow.ChildFlow{}, flowError("%s: flow %s not found", req.Call.Tool, id)
	}
	if err != nil {
		return agentflow.ChildFlow{}, fmt.Errorf("%s: load flow %s: %w", req.Call.Tool, id, err)
	}
	args, err := toolArgs(req.Call)
	if err != nil {
		return agentflow.ChildFlow{}, err
	}
	question, _ := args["input"].(string)
	if agentflow.Truthy(cfg["useQuestionFromChat"]) {
		question = req.Run.Question
	} else if custom := configString(cfg, "customInput"); custom != "" {
		question = custom
	}
	return agentflow.ChildFlow{ChatflowID: f.ID, Type: f.Type, FlowData: f.FlowData, Question: question}, nil
}
