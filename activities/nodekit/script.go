package nodekit

import (
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/workflows/node"
)

// ScriptEnv is what sandboxed code sees, as in Flowise: $vars, $flow (ids, the question and
// the state), its own inputs as $<name>, and fetch() through the SSRF-guarded client.
func (d *Deps) ScriptEnv(run node.AgentflowRun, state map[string]any, inputs map[string]any) jsrun.Env {
	vars := make(map[string]any, len(run.Vars))
	for k, v := range run.Vars {
		vars[k] = v
	}
	flowVars := map[string]any{"sessionId": run.SessionID, "chatId": run.ChatID, "chatflowId": run.ChatflowID,
		"input": run.Question, "state": state}
	return jsrun.Env{Vars: vars, Flow: flowVars, Input: inputs, Fetch: d.fetch}
}
