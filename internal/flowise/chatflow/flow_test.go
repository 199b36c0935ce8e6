package chatflow_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

func TestParseSharedFlows(t *testing.T) {
	tests := []struct {
		file  string
		nodes []string
		edges int
	}{
		{"llm-chain.json", []string{"chatOpenAI_0", "promptTemplate_0", "llmChain_0"}, 2},
		{"conversation-chain.json", []string{"chatOpenAI_0", "bufferMemory_0", "conversationChain_0"}, 2},
		{"marketplace/chatflows/LLM Chain.json", []string{"promptTemplate_0", "llmChain_0", "azureChatOpenAI_0", "stickyNote_0"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			g, err := chatflow.Parse(readFlow(t, tc.file))
			require.NoError(t, err)
			ids := make([]string, len(g.Nodes))
			for i, n := range g.Nodes {
				ids[i] = n.ID
				require.Equal(t, n.ID, n.Data.ID, "data.id of %s", n.ID)
				require.NotNil(t, n.Data.Outputs, "outputs of %s", n.ID)
			}
			require.Equal(t, tc.nodes, ids)
			require.Len(t, g.Edges, tc.edges)
		})
	}
}

func TestParseLLMChainDetails(t *testing.T) {
	g, err := chatflow.Parse(readFlow(t, "llm-chain.json"))
	require.NoError(t, err)
	byID := map[string]chatflow.Node{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	m := byID["chatOpenAI_0"]
	require.Equal(t, "chatOpenAI", m.Data.Name)
	require.Equal(t, chatflow.CategoryChatModels, m.Data.Category)
	require.NotEmpty(t, m.Data.Credential)
	require.Equal(t, "true", m.Input("streaming"))
	c := byID["llmChain_0"]
	require.Equal(t, chatflow.CategoryChains, c.Data.Category)
	require.Equal(t, map[string]string{"output": "llmChain"}, c.Data.Outputs)
	ref, ok := chatflow.InstanceRef(c.Data.Inputs["model"])
	require.True(t, ok)
	require.Equal(t, "chatOpenAI_0", ref)
	i := indexOfEdge(g.Edges, "promptTemplate_0")
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, "llmChain_0", g.Edges[i].Target)
	require.NotEmpty(t, g.Edges[i].SourceHandle)
	require.NotEmpty(t, g.Edges[i].TargetHandle)
}

func indexOfEdge(edges []chatflow.Edge, source string) int {
	for i, e := range edges {
		if e.Source == source {
			return i
		}
	}
	return -1
}

func TestParseInvalidJSON(t *testing.T) {
	for _, in := range []string{
		"",
		"{nodes: oops",
		"[1,",
		`{"nodes": "not a list"}`,
		`{"nodes": [{"id": 7}]}`,
		`{"edges": [{"source": {}}]}`,
	} {
		t.Run(in, func(t *testing.T) {
			g, err := chatflow.Parse(in)
			require.Error(t, err)
			require.Nil(t, g)
			require.True(t, chatflow.IsFlowError(err))
			var fe *chatflow.Error
			require.ErrorAs(t, err, &fe)
			require.True(t, strings.HasPrefix(fe.Msg, "flowData is not valid JSON: "), fe.Msg)
			require.Equal(t, fe.Msg, err.Error())
		})
	}
}

func TestParseOutputsAndDataID(t *testing.T) {
	g, err := chatflow.Parse(`{
		"nodes": [
			{"id": "llmChain_0", "type": "customNode", "data": {"name": "llmChain", "category": "Chains",
				"outputs": {"output": "llmChain", "count": 1, "flag": true, "none": null, "obj": {"a": "b"}, "list": ["x"]}}},
			{"id": "chatOpenAI_0", "data": {"id": "someOtherId", "name": "chatOpenAI"}},
			{"id": "promptTemplate_0", "data": {"name": "promptTemplate", "outputs": null}}
		],
		"edges": [],
		"viewport": {"x": 1, "y": 2, "zoom": 1}
	}`)
	require.NoError(t, err)
	require.Len(t, g.Nodes, 3)

	require.Equal(t, map[string]string{"output": "llmChain"}, g.Nodes[0].Data.Outputs)
	require.Equal(t, "llmChain_0", g.Nodes[0].Data.ID, "missing data.id defaults to the node id")
	require.Equal(t, "customNode", g.Nodes[0].Type)

	require.Equal(t, "someOtherId", g.Nodes[1].Data.ID, "an explicit data.id is kept")
	require.Equal(t, map[string]string{}, g.Nodes[1].Data.Outputs)

	require.Equal(t, map[string]string{}, g.Nodes[2].Data.Outputs)
	require.Empty(t, g.Edges)
}

func TestIsFlowError(t *testing.T) {
	_, flowErr := chatflow.Parse("nope")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"flow error", flowErr, true},
		{"wrapped flow error", fmt.Errorf("saving chatflow: %w", flowErr), true},
		{"other error", errors.New("database is down"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, chatflow.IsFlowError(tc.err))
		})
	}
}

func TestNodeInput(t *testing.T) {
	n := mkNode("chatOpenAI_0", "chatOpenAI", chatflow.CategoryChatModels, map[string]any{
		"modelName":   "gpt-4o-mini",
		"temperature": 0.9,
		"streaming":   true,
		"maxTokens":   nil,
		"tools":       []any{"{{calculator_0.data.instance}}"},
		"obj":         map[string]any{"a": "b"},
	})
	tests := map[string]string{
		"modelName":   "gpt-4o-mini",
		"temperature": "0.9",
		"streaming":   "true",
		"maxTokens":   "",
		"absent":      "",
		"tools":       `["{{calculator_0.data.instance}}"]`,
		"obj":         `{"a":"b"}`,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, want, n.Input(name))
		})
	}
}

func TestInstanceRef(t *testing.T) {
	tests := []struct {
		in   any
		id   string
		isOK bool
	}{
		{"{{chatOpenAI_0.data.instance}}", "chatOpenAI_0", true},
		{"  {{llmChain_0.data.instance}} ", "llmChain_0", true},
		{"{{question}}", "", false},
		{"chatOpenAI_0", "", false},
		{"", "", false},
		{[]any{"{{chatOpenAI_0.data.instance}}"}, "", false},
		{nil, "", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.in), func(t *testing.T) {
			id, ok := chatflow.InstanceRef(tc.in)
			require.Equal(t, tc.isOK, ok)
			require.Equal(t, tc.id, id)
		})
	}
}

func TestIsStickyNote(t *testing.T) {
	require.True(t, chatflow.Node{ID: "s", Type: "stickyNote"}.IsStickyNote())
	require.True(t, chatflow.Node{ID: "s", Data: chatflow.NodeData{Name: "stickyNote"}}.IsStickyNote())
	require.True(t, chatflow.Node{ID: "s", Data: chatflow.NodeData{Name: "stickyNoteAgentflow"}}.IsStickyNote())
	require.False(t, chain("llmChain_0", nil).IsStickyNote())
}
