package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Flow tools run another flow: a chatflow (ChatflowTool) or an agentflow (agentAsTool). Their
// activity only reads the flow; the workflow runs it as a child workflow, like an Execute
// Flow node, so the other flow's run is durable and visible on its own.

// flowTool is a flow tool kind: the setting naming the flow, and the tool's default name and
// description.
type flowTool struct {
	kind, flowKey, name, description string
}

func (f flowTool) tool(d *nodekit.Deps) FlowTool {
	return FlowTool{Offer: f.offer, Run: func(ctx context.Context, req node.ToolRequest) (node.ChildFlow, error) {
		return f.run(ctx, d, req)
	}}
}

func (f flowTool) offer(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	return []llm.Tool{{
		Name:        toolName(nodekit.ConfigString(e.Config, "name"), f.name),
		Description: cmp.Or(nodekit.ConfigString(e.Config, "description"), f.description),
		Parameters:  []byte(`{"type":"object","properties":{"input":{"type":"string","description":"input question"}},"required":["input"]}`),
	}}, nil
}

// run reads the flow the tool runs and the question it hands over: the model's input, or the
// chat's question (useQuestionFromChat), or the configured customInput.
func (f flowTool) run(ctx context.Context, d *nodekit.Deps, req node.ToolRequest) (node.ChildFlow, error) {
	cfg := config(req)
	id := nodekit.ConfigString(cfg, f.flowKey)
	switch {
	case id == "":
		return node.ChildFlow{}, nodekit.FlowError("%s: select the flow to run", f.kind)
	case id == req.Run.ChatflowID:
		return node.ChildFlow{}, nodekit.FlowError("%s: a flow cannot call itself", f.kind)
	}
	flow, err := d.Store.GetChatFlow(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return node.ChildFlow{}, nodekit.FlowError("%s: flow %s not found", f.kind, id)
	}
	if err != nil {
		return node.ChildFlow{}, fmt.Errorf("%s: load flow %s: %w", f.kind, id, err)
	}
	args, err := callArgs(req.Call)
	if err != nil {
		return node.ChildFlow{}, err
	}
	question, _ := args["input"].(string)
	if agentflow.Truthy(cfg["useQuestionFromChat"]) {
		question = req.Run.Question
	} else if custom := nodekit.ConfigString(cfg, "customInput"); custom != "" {
		question = custom
	}
	return nodekit.ChildFlow(flow, question)
}
