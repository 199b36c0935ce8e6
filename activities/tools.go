package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
)

// toolFunc runs one tool call and returns what the model reads back.
type toolFunc func(context.Context, agentflow.ToolRequest) (string, error)

// toolKind is a kind of tool an agent may offer (an agentSelectedTool value). One entry of
// agentTools offers the model one function, or several for a toolkit.
type toolKind struct {
	offer func(ctx context.Context, e agentflow.ToolEntry) ([]llm.Tool, error)
	run   toolFunc
}

// fixed offers the same function whatever the entry's settings.
func fixed(name, description, parameters string) func(context.Context, agentflow.ToolEntry) ([]llm.Tool, error) {
	spec := llm.Tool{Name: name, Description: description, Parameters: json.RawMessage(parameters)}
	return func(context.Context, agentflow.ToolEntry) ([]llm.Tool, error) { return []llm.Tool{spec}, nil }
}

// toolKinds maps each kind of tool this version runs to how it is offered and run. Names,
// descriptions and argument shapes follow Flowise's tools of the same kinds. Flow tools
// (agentflow.IsFlowTool) are not here: the workflow runs them as child workflows.
func (a *Activities) toolKinds() map[string]toolKind {
	kinds := map[string]toolKind{
		"calculator": {fixed("calculator", "Useful for getting the result of a math expression. The input to this tool should be a valid mathematical expression.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the expression"}},"required":["input"]}`), a.calculator},
		"currentDateTime": {fixed("current_date_time", "Useful to get current day, date and time.", `{"type":"object","properties":{}}`), currentDateTime},
		"gmail": {fixed("gmail", "Send an email with Gmail.",
			`{"type":"object","properties":{"to":{"type":"string"},"subject":{"type":"string"},"body":{"type":"string"}},"required":["to","subject","body"]}`), a.gmailSend},
		"googleCustomSearch": {fixed("google-custom-search", "a custom search engine. useful for when you need to answer questions about current events. input should be a search query. outputs a JSON array of results.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the search query"}},"required":["input"]}`), a.googleCustomSearch},
		"serpAPI": {fixed("search", "a search engine. useful for when you need to answer questions about current events. input should be a search query.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the search query"}},"required":["input"]}`), a.serpAPI},
		"customTool":            {a.offerCustomTool, a.runCustomTool},
		"openAPIToolkit":        {a.offerOpenAPI, a.runOpenAPI},
		agentflow.ToolKnowledge: {offerKnowledge, a.searchKnowledge},
	}
	for _, r := range requestTools {
		kinds[r.kind] = toolKind{r.offer, a.requestTool}
	}
	return kinds
}

// offerTools lists the functions an agent offers its model, and which entry serves each
// function name. Tools a person rejected stay on offer (Anthropic refuses a conversation with
// tool calls but no tools); resolveCalls refuses their calls instead.
func (a *Activities) offerTools(ctx context.Context, n agentflow.Node) ([]llm.Tool, map[string]agentflow.ToolEntry, error) {
	kinds := a.toolKinds()
	var specs []llm.Tool
	byName := map[string]agentflow.ToolEntry{}
	for _, e := range agentflow.ToolEntries(n) {
		var offered []llm.Tool
		var err error
		switch k, ok := kinds[e.Kind]; {
		case agentflow.IsFlowTool(e.Kind):
			offered, err = offerFlowTool(e)
		case ok:
			offered, err = k.offer(ctx, e)
		default:
			return nil, nil, flowError("%s: tool %s is not supported", n, e.Kind)
		}
		if err != nil {
			return nil, nil, annotate(err, "%s: tool %s", n, e.Kind)
		}
		for _, spec := range offered {
			if _, dup := byName[spec.Name]; dup {
				return nil, nil, flowError("%s: two tools are named %q; give them different names", n, spec.Name)
			}
			byName[spec.Name] = e
			specs = append(specs, spec)
		}
	}
	return specs, byName, nil
}

// resolveCalls ties each call the model asked for to the entry that serves it, refusing calls
// of tools that do not exist or that a person rejected in this run.
func resolveCalls(calls []llm.ToolCall, byName map[string]agentflow.ToolEntry, rejected []int) []agentflow.AgentToolCall {
	out := make([]agentflow.AgentToolCall, len(calls))
	for i, tc := range calls {
		out[i] = agentflow.AgentToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments}
		e, ok := byName[tc.Name]
		switch {
		case !ok:
			out[i].Refused = fmt.Sprintf("there is no tool named %q", tc.Name)
			continue
		case slices.Contains(rejected, e.Index):
			out[i].Refused = fmt.Sprintf("the user rejected %s; do not call it again", tc.Name)
			continue
		}
		out[i].Tool, out[i].Entry, out[i].NeedsApproval = e.Kind, e.Index, e.RequiresHumanInput
		out[i].ReturnDirect = agentflow.Truthy(e.Config["returnDirect"])
	}
	return out
}

// runTool runs one tool call an agent's model asked for.
func (a *Activities) runTool(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	k, ok := a.toolKinds()[req.Call.Kind()]
	if !ok {
		return "", flowError("tool %s is not supported", req.Call.Kind())
	}
	return k.run(ctx, req)
}

// toolConfig is the settings of the tool serving a call: a Tool node's own, or those of the
// agent's agentTools entry.
func toolConfig(req agentflow.ToolRequest) map[string]any {
	if cfg, ok := req.Node.Inputs["toolAgentflowSelectedToolConfig"].(map[string]any); ok {
		return cfg
	}
	for _, e := range agentflow.ToolEntries(req.Node) {
		if (req.Call.Tool != "" && e.Index == req.Call.Entry) || (req.Call.Tool == "" && e.Kind == req.Call.Name) {
			return e.Config
		}
	}
	return nil
}

// toolSetting reads one string setting of the tool serving a call.
func toolSetting(req agentflow.ToolRequest, key string) string {
	return configString(toolConfig(req), key)
}

func configString(cfg map[string]any, key string) string {
	v, _ := cfg[key].(string)
	return v
}

// toolArgs decodes a call's JSON arguments; a model that wrote none sends "".
func toolArgs(call agentflow.AgentToolCall) (map[string]any, error) {
	args := map[string]any{}
	if strings.TrimSpace(call.Arguments) == "" {
		return args, nil
	}
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
		return nil, flowError("tool %s: arguments are not a JSON object: %v", call.Name, err)
	}
	return args, nil
}

// calculator evaluates an arithmetic expression. Only digits, operators, parentheses and
// spaces reach the JavaScript sandbox, so the expression can be nothing but arithmetic.
func (a *Activities) calculator(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	expr, _ := args["input"].(string)
	if strings.TrimSpace(expr) == "" || strings.Trim(expr, "0123456789.+-*/%() ") != "" {
		return "", flowError("calculator: %q is not an arithmetic expression", expr)
	}
	return jsrun.RunString(ctx, "return ("+expr+");", jsrun.Env{}, jsrun.Limits{Timeout: time.Second})
}

func currentDateTime(context.Context, agentflow.ToolRequest) (string, error) {
	return time.Now().UTC().Format(time.RFC3339), nil
}

// toolStep is a Tool node: it runs its tool once with the arguments it is given
// (toolInputArgs), without a model.
func (a *Activities) toolStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	kind := n.Input("toolAgentflowSelectedTool")
	args := map[string]any{}
	for k, v := range namedValues(sc, n.Inputs["toolInputArgs"], "inputArgName", "inputArgValue") {
		args[k] = strings.TrimSpace(v)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	call := agentflow.AgentToolCall{Name: kind, Tool: kind, Entry: -1, Arguments: string(raw)}
	result, err := a.runTool(ctx, agentflow.ToolRequest{Node: n, Call: call, Run: req.Run, State: req.State})
	if err != nil {
		return agentflow.StepResult{}, annotate(err, "%s", n)
	}
	out := map[string]any{"content": result}
	state, err := withState(req, sc, "toolUpdateState", out)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Input: map[string]any{"tool": kind, "toolInputArgs": args}, Output: out, State: state}, nil
}
