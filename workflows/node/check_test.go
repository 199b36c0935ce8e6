package node_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/workflows/node"
)

func TestCheckAgentflowNamesEveryUnsupportedNode(t *testing.T) {
	agent := func(inputs map[string]any) *agentflow.Graph {
		if _, ok := inputs["agentModel"]; !ok {
			inputs["agentModel"] = "chatOpenAI"
		}
		return &agentflow.Graph{Nodes: []agentflow.Node{{ID: "startAgentflow_0", Kind: agentflow.KindStart}, {ID: "agentAgentflow_0", Kind: agentflow.KindAgent, Inputs: inputs}}}
	}
	tool := func(name string) *agentflow.Graph {
		return &agentflow.Graph{Nodes: []agentflow.Node{{ID: "toolAgentflow_0", Kind: agentflow.KindTool, Inputs: map[string]any{"toolAgentflowSelectedTool": name}}}}
	}
	cases := []struct {
		name    string
		g       *agentflow.Graph
		refused bool
	}{
		{"tools it runs", agent(map[string]any{"agentTools": []any{map[string]any{"agentSelectedTool": "calculator"}}}), false},
		{"document store knowledge", agent(map[string]any{"agentKnowledgeDocumentStores": []any{map[string]any{"documentStore": "id:name"}}}), false},
		{"empty built-in tools", agent(map[string]any{"agentToolsBuiltInOpenAI": ""}), false},
		{"a tool it does not run", agent(map[string]any{"agentTools": []any{map[string]any{"agentSelectedTool": "braveSearchAPI"}}}), true},
		{"a model that cannot call tools", agent(map[string]any{"agentModel": "chatHuggingFace", "agentTools": []any{map[string]any{"agentSelectedTool": "calculator"}}}), true},
		{"built-in provider tools", agent(map[string]any{"agentToolsBuiltInOpenAI": []any{"web_search_preview"}}), true},
		{"built-in tools as JSON text", agent(map[string]any{"agentToolsBuiltInAnthropic": `["web_search_20250305"]`}), true},
		{"vector store knowledge", agent(map[string]any{"agentKnowledgeVSEmbeddings": []any{map[string]any{"vectorStore": "pinecone"}}}), true},
		{"a node kind it does not run", &agentflow.Graph{Nodes: []agentflow.Node{{ID: "x_0", Kind: "mysteryAgentflow"}}}, true},
		{"a Tool node with a tool of its own", tool("calculator"), false},
		{"a Tool node with a toolkit", tool("openAPIToolkit"), true},
		{"a Tool node with a flow tool", tool("ChatflowTool"), true},
	}
	for _, c := range cases {
		var problems node.UnsupportedError
		err := node.CheckAgentflow(c.g)
		require.Equal(t, c.refused, errors.As(err, &problems), c.name)
		require.Equal(t, c.refused, err != nil, c.name)
		for _, p := range problems {
			require.NotEmpty(t, p.NodeID, c.name)
			require.NotEmpty(t, p.Reason, c.name)
		}
	}
}

func TestCheckAgentflowReportsAllAtOnce(t *testing.T) {
	g := &agentflow.Graph{Nodes: []agentflow.Node{
		{ID: "a_0", Kind: "mysteryAgentflow"},
		{ID: "b_0", Kind: "otherAgentflow"},
		{ID: "llmAgentflow_0", Kind: agentflow.KindLLM},
	}}
	err := node.CheckAgentflow(g)
	var problems node.UnsupportedError
	require.ErrorAs(t, err, &problems)
	require.Len(t, problems, 2)
	require.Contains(t, err.Error(), "a_0 (mysteryAgentflow)")
	require.Contains(t, err.Error(), "b_0 (otherAgentflow)")
	require.Contains(t, err.Error(), "2 nodes")
}

// The agentflow workflow runs every tool call as a regular activity, under a heartbeat timeout:
// a tool row that did not call out would not heartbeat and be cut off as dead.
func TestToolsCallOut(t *testing.T) {
	for _, k := range node.Kinds() {
		if k.Family == node.Tool || k.Family == node.FlowTool {
			require.True(t, k.CallsOut, k.Name)
		}
	}
}

// The error names each node once for each thing it lacks, and lists what is supported once:
// it used to repeat the lists for every node and the node for every tool, so a flow of many
// unknown nodes, or an agent of many unknown tools, made an error dozens of times its size,
// or the square of it.
func TestCheckAgentflowErrorStaysSmall(t *testing.T) {
	id := strings.Repeat("a", 1000)
	g := &agentflow.Graph{Nodes: []agentflow.Node{{ID: "startAgentflow_0", Kind: agentflow.KindStart}}}
	size := 0
	for i := range 1000 {
		g.Nodes = append(g.Nodes, agentflow.Node{ID: fmt.Sprint("x", i), Kind: "mysteryAgentflow"})
		size += 40
	}
	var tools []any
	for i := range 1000 {
		tools = append(tools, map[string]any{"agentSelectedTool": fmt.Sprint("tool", i)})
		size += 40
	}
	g.Nodes = append(g.Nodes, agentflow.Node{ID: id, Kind: agentflow.KindAgent, Inputs: map[string]any{"agentModel": "chatHuggingFace", "agentTools": tools}})
	size += len(id)

	err := node.CheckAgentflow(g)
	var problems node.UnsupportedError
	require.ErrorAs(t, err, &problems)
	require.Len(t, problems, 1002, "each unknown node, then the agent's tools and its model")
	msg := err.Error()
	require.Less(t, len(msg), 3*size, "the error is a few times the flow, not dozens")
	require.Equal(t, 1, strings.Count(msg, "(agentflow nodes: "))
	require.Equal(t, 1, strings.Count(msg, "(tools: "))
	require.Equal(t, 2, strings.Count(msg, id), "the agent is named for its tools and its model")
	require.Contains(t, msg, "tools tool0, tool1, ")
	require.Contains(t, msg, `model "chatHuggingFace" cannot call tools here (tool-calling models: `)
}
