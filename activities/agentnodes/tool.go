package agentnodes

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// Tool is a Tool node: it runs its tool once with the arguments it is given
// (toolInputArgs), without a model.
func (s *Steps) Tool(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	kind := n.Input("toolAgentflowSelectedTool")
	args := map[string]any{}
	for k, v := range namedValues(sc, n.Inputs["toolInputArgs"], "inputArgName", "inputArgValue") {
		args[k] = strings.TrimSpace(v)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return node.StepResult{}, err
	}
	call := node.ToolCall{Name: kind, Tool: kind, Entry: -1, Arguments: string(raw)}
	result, err := s.Tools.Run(ctx, node.ToolRequest{Node: n, Call: call, Run: req.Run, State: req.State})
	if err != nil {
		return node.StepResult{}, nodekit.Annotate(err, "%s", n)
	}
	s.sendWhole(ctx, req, result)
	out := map[string]any{"content": result}
	state, err := withState(req, sc, "toolUpdateState", out)
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Input: map[string]any{"tool": kind, "toolInputArgs": args}, Output: out, State: state}, nil
}
