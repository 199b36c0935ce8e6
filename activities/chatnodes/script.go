package chatnodes

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/workflows/node"
)

// What customFunction and ifElseFunction share: their JavaScript runs in the sandbox (jsrun)
// with Flowise's globals: $input (the question), $vars (every variable), $flow (the run's
// ids and the question) and $<name> for each of the node's input variables.

// scriptEnv is the sandbox's view of a run for req.
func (n *Nodes) scriptEnv(ctx context.Context, req node.Request) (jsrun.Env, error) {
	inputs, err := inputVariables(req)
	if err != nil {
		return jsrun.Env{}, err
	}
	vs, err := n.Variables(ctx, req.Run.Vars)
	if err != nil {
		return jsrun.Env{}, err
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return jsrun.Env{}, err
	}
	inputs["input"] = question
	run := node.AgentflowRun{ChatflowID: req.Run.ChatflowID, ChatID: req.Run.ChatID, SessionID: req.Run.SessionID,
		Question: question, Vars: vs.All()}
	env := n.ScriptEnv(run, nil, inputs)
	delete(env.Flow, "state") // chatflows have none
	return env, nil
}

// inputVariables are the node's functionInputVariables (an object, or its JSON), each value
// with its {{…}} references resolved and, as in Flowise, a string holding a JSON object
// parsed.
func inputVariables(req node.Request) (map[string]any, error) {
	raw := req.Node.Data.Inputs["functionInputVariables"]
	out := map[string]any{}
	switch v := raw.(type) {
	case nil:
	case string:
		if strings.TrimSpace(v) != "" {
			if err := json.Unmarshal([]byte(v), &out); err != nil {
				return nil, nodekit.FlowError("%s: Invalid JSON in the Input Variables: %v", req.Node.ID, err)
			}
		}
	case map[string]any:
		for k, x := range v {
			out[k] = x
		}
	default:
		return nil, nodekit.FlowError("%s: Input Variables must be a JSON object", req.Node.ID)
	}
	resolve := vars(req).Resolve
	for k, v := range out {
		s, ok := v.(string)
		if !ok {
			continue
		}
		s = resolve(s)
		out[k] = s
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			var obj any
			if json.Unmarshal([]byte(s), &obj) == nil {
				out[k] = obj
			}
		}
	}
	return out, nil
}

// runScript runs one of the node's functions.
func (n *Nodes) runScript(ctx context.Context, req node.Request, code string, env jsrun.Env) (any, error) {
	v, err := jsrun.Run(ctx, code, env, jsrun.Limits{})
	if err != nil {
		return nil, nodekit.FlowError("%s: %v", req.Node.ID, err)
	}
	return v, nil
}

// scriptText is a script's result as other nodes read it: strings as they are, other values
// as JSON, nothing as "".
func scriptText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// truthy is JavaScript's truthiness of a result.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0 && !math.IsNaN(v)
	}
	return true
}
