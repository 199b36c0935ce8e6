package agentnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/workflows/node"
)

// CustomFunction runs the node's JavaScript in the sandbox with $flow, $vars and its
// input variables; what it returns is the output.
func (s *Steps) CustomFunction(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	inputs := map[string]any{}
	for name, value := range namedValues(sc, n.Inputs["customFunctionInputVariables"], "variableName", "variableValue") {
		inputs[name] = value
	}
	result, err := jsrun.RunString(ctx, n.Input("customFunctionJavascriptFunction"), s.ScriptEnv(req.Run, req.State, inputs), jsrun.Limits{})
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: %v", n, err)
	}
	s.sendWhole(ctx, req, result)
	out := map[string]any{"content": result}
	state, err := withState(req, sc, "customFunctionUpdateState", out)
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Input: map[string]any{"inputVariables": inputs}, Output: out, State: state}, nil
}
