package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// Gmail actions other than sending are refused as the flow's mistake, before any credential
// is read or any mail sent.
func TestGmailOnlySends(t *testing.T) {
	for _, cfg := range []map[string]any{
		{"gmailType": "drafts", "draftActions": `["createDraft"]`},
		{"gmailType": "messages", "messageActions": `["listMessages"]`},
	} {
		req := node.ToolRequest{
			Node: agentflow.Node{ID: "toolAgentflow_0", Kind: agentflow.KindTool, Inputs: map[string]any{"toolAgentflowSelectedToolConfig": cfg}},
			Call: node.ToolCall{Name: "gmail", Tool: "gmail", Entry: -1, Arguments: `{"to":"a@example.com"}`},
		}
		_, err := (&Tools{}).Gmail().Run(context.Background(), req)
		var app *temporal.ApplicationError
		require.ErrorAs(t, err, &app)
		require.Equal(t, node.ErrFlow, app.Type())
		require.Contains(t, app.Message(), "only sending messages is supported")
	}
}

// Request tools place the model's parameters as Flowise does: a path parameter fills its
// placeholder or is appended, query parameters join the query, and without a schema every
// parameter is a query parameter.
func TestRequestToolParameters(t *testing.T) {
	specs := map[string]paramSpec{"id": {In: "path"}, "limit": {In: "query"}, "org": {In: "path"}}
	got, err := withParams("http://api.example/orgs/:org/events", map[string]any{"id": "a b", "limit": 10, "org": "acme"}, specs)
	require.NoError(t, err)
	require.Equal(t, "http://api.example/orgs/acme/events/a%20b?limit=10", got)
	got, err = withParams("http://api.example/events?x=1", map[string]any{"q": "jazz"}, nil)
	require.NoError(t, err)
	require.Equal(t, "http://api.example/events?q=jazz&x=1", got)
}

// The calculator's expression comes from the model, which anyone chatting can steer: it does
// arithmetic, and an expression long enough to cost the compiler is the flow's error.
func TestCalculator(t *testing.T) {
	run := func(expr string) (string, error) {
		args, err := json.Marshal(map[string]string{"input": expr})
		require.NoError(t, err)
		return (&Tools{}).Calculator().Run(context.Background(), node.ToolRequest{
			Call: node.ToolCall{Name: "calculator", Tool: "calculator", Entry: -1, Arguments: string(args)}})
	}
	got, err := run("(2 + 3) * 4 / 8")
	require.NoError(t, err)
	require.Equal(t, "2.5", got)
	for _, expr := range []string{"process.exit()", strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500) + "+1"} {
		_, err = run(expr)
		var app *temporal.ApplicationError
		require.ErrorAs(t, err, &app)
		require.Equal(t, node.ErrFlow, app.Type())
	}
}

// A classic chatflow's tool node gives its own inputs as the tool's settings, and its place in
// the agent's tools input as the entry the model's calls are resolved to.
func TestChatflowToolNodes(t *testing.T) {
	nodes := []*node.ToolNode{
		{ID: "calculator_0", Kind: "calculator"},
		{ID: "chainTool_0", Kind: "chainTool", Config: map[string]any{"name": "Translator!", "description": "translates", "returnDirect": true}},
	}
	entries := ChatflowEntries(nodes)
	require.Equal(t, 1, entries[1].Index)
	require.Equal(t, "translates", config(node.ToolRequest{Tool: nodes[1]})["description"])
	set := Set{Tools: map[string]Tool{"calculator": (&Tools{}).Calculator(), "chainTool": (&Tools{}).ChainTool()}}
	offered, byName, err := set.OfferEntries(context.Background(), agentflow.Node{ID: "toolAgent_0", Kind: "toolAgent"}, entries)
	require.NoError(t, err)
	require.Equal(t, "calculator", offered[0].Name)
	require.Equal(t, "translator", offered[1].Name, "named as Flowise sanitizes tool names")
	calls := ResolveCalls([]llm.ToolCall{{ID: "1", Name: "translator", Arguments: `{"input":"hi"}`}, {ID: "2", Name: "nope"}}, byName, nil)
	require.Equal(t, node.ToolCall{ID: "1", Name: "translator", Arguments: `{"input":"hi"}`, Tool: "chainTool", Entry: 1, ReturnDirect: true}, calls[0])
	require.NotEmpty(t, calls[1].Refused)

	// A chain tool outside a chatflow, or without its chain, is the flow's mistake.
	_, err = (&Tools{}).ChainTool().Run(context.Background(), node.ToolRequest{Tool: nodes[1], Call: calls[0]})
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Contains(t, app.Message(), "connect a chain")

	// File tools are refused before the model is asked.
	_, _, err = Set{Tools: map[string]Tool{"readFile": (&Tools{}).ReadFile()}}.OfferEntries(context.Background(),
		agentflow.Node{ID: "toolAgent_0"}, []agentflow.ToolEntry{{Kind: "readFile"}})
	require.ErrorContains(t, err, "Flowgate gives flows no local disk")
}
