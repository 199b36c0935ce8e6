// Package tools holds the tool kinds an agent offers its model, one file each: how a tool is
// offered (the functions the model sees) and how one call of it runs, as its own activity
// (tool.<kind>). Names, descriptions and argument shapes follow Flowise's tools of the same
// kinds.
package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// Tools is where the kinds table finds each tool, by the method its Run names.
type Tools struct {
	*nodekit.Deps
	// RunChain runs a classic chatflow chain node (its node.<kind> code): a chainTool's
	// call. activities.Register sets it, the chain nodes being built after the tools.
	RunChain func(ctx context.Context, req node.Request) (node.Value, error)
}

// Offer lists the functions one agentTools entry gives the model; a toolkit gives several.
type Offer func(ctx context.Context, e agentflow.ToolEntry) ([]llm.Tool, error)

// Tool is a kind of tool: how it is offered, and how one call of it runs.
type Tool struct {
	Offer Offer
	Run   func(ctx context.Context, req node.ToolRequest) (string, error)
}

// FlowTool is a tool that runs another flow: its activity reads the flow and the question it
// hands over, and the workflow runs that flow as a child workflow.
type FlowTool struct {
	Offer Offer
	Run   func(ctx context.Context, req node.ToolRequest) (node.ChildFlow, error)
}

// Set is every tool by kind, as activities.Register builds it from the kinds table.
type Set struct {
	Tools map[string]Tool
	Flows map[string]FlowTool
}

// Offer lists the functions an agent offers its model, and which entry serves each function
// name. Tools a person rejected stay on offer (Anthropic refuses a conversation with tool
// calls but no tools); ResolveCalls refuses their calls instead.
func (s Set) Offer(ctx context.Context, n agentflow.Node) ([]llm.Tool, map[string]agentflow.ToolEntry, error) {
	return s.OfferEntries(ctx, n, agentflow.ToolEntries(n))
}

// OfferEntries is Offer for the given entries of agent n: a classic chatflow's agent makes
// one entry of each tool node wired into it (ChatflowEntries).
func (s Set) OfferEntries(ctx context.Context, n fmt.Stringer, entries []agentflow.ToolEntry) ([]llm.Tool, map[string]agentflow.ToolEntry, error) {
	var specs []llm.Tool
	byName := map[string]agentflow.ToolEntry{}
	for _, e := range entries {
		offer, ok := s.offer(e.Kind)
		if !ok {
			return nil, nil, nodekit.FlowError("%s: tool %s is not supported", n, e.Kind)
		}
		offered, err := offer(ctx, e)
		if err != nil {
			return nil, nil, nodekit.Annotate(err, "%s: tool %s", n, e.Kind)
		}
		for _, spec := range offered {
			if _, dup := byName[spec.Name]; dup {
				return nil, nil, nodekit.FlowError("%s: two tools are named %q; give them different names", n, spec.Name)
			}
			byName[spec.Name] = e
			specs = append(specs, spec)
		}
	}
	return specs, byName, nil
}

func (s Set) offer(kind string) (Offer, bool) {
	if t, ok := s.Tools[kind]; ok {
		return t.Offer, true
	}
	if t, ok := s.Flows[kind]; ok {
		return t.Offer, true
	}
	return nil, false
}

// Run runs one call of a tool that is not a flow tool.
func (s Set) Run(ctx context.Context, req node.ToolRequest) (string, error) {
	t, ok := s.Tools[req.Call.Kind()]
	if !ok {
		return "", nodekit.FlowError("tool %s is not supported", req.Call.Kind())
	}
	return t.Run(ctx, req)
}

// ResolveCalls ties each call the model asked for to the entry that serves it, refusing calls
// of tools that do not exist or that a person rejected in this run.
func ResolveCalls(calls []llm.ToolCall, byName map[string]agentflow.ToolEntry, rejected []int) []node.ToolCall {
	out := make([]node.ToolCall, len(calls))
	for i, tc := range calls {
		out[i] = node.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments}
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

// fixed offers the same function whatever the entry's settings.
func fixed(name, description, parameters string) Offer {
	spec := llm.Tool{Name: name, Description: description, Parameters: json.RawMessage(parameters)}
	return func(context.Context, agentflow.ToolEntry) ([]llm.Tool, error) { return []llm.Tool{spec}, nil }
}

// ChatflowEntries are the entries of a classic chatflow agent's tool nodes, in the order of
// its tools input: each tool node's settings, and its position as the entry's index, which
// ToolCall.Entry then names.
func ChatflowEntries(tools []*node.ToolNode) []agentflow.ToolEntry {
	out := make([]agentflow.ToolEntry, len(tools))
	for i, t := range tools {
		out[i] = agentflow.ToolEntry{Index: i, Kind: t.Kind, Config: t.Config}
	}
	return out
}

// config is the settings of the tool serving a call: a chatflow tool node's own, an agentflow
// Tool node's own, or those of the agent's agentTools entry.
func config(req node.ToolRequest) map[string]any {
	if req.Tool != nil {
		return req.Tool.Config
	}
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

// setting reads one string setting of the tool serving a call.
func setting(req node.ToolRequest, key string) string {
	return nodekit.ConfigString(config(req), key)
}

// callArgs decodes a call's JSON arguments; a model that wrote none sends "".
func callArgs(call node.ToolCall) (map[string]any, error) {
	out := map[string]any{}
	if strings.TrimSpace(call.Arguments) == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(call.Arguments), &out); err != nil {
		return nil, nodekit.FlowError("tool %s: arguments are not a JSON object: %v", call.Name, err)
	}
	return out, nil
}

// toolName is a configured tool name as Flowise keeps it, or fallback when none is left.
func toolName(configured, fallback string) string {
	return cmp.Or(agentflow.SanitizeToolName(configured), fallback)
}

// WithVariables gives a tool call every {{$vars.*}}, runtime ones included: a tool calls out,
// and the JavaScript of custom tools sees them as $vars.
func (t *Tools) WithVariables(fn func(context.Context, node.ToolRequest) (string, error)) func(context.Context, node.ToolRequest) (string, error) {
	return func(ctx context.Context, req node.ToolRequest) (string, error) {
		vs, err := t.Variables(ctx, req.Run.Vars)
		if err != nil {
			return "", err
		}
		req.Run.Vars = vs.All()
		return fn(ctx, req)
	}
}
