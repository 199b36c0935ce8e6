package chatflow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

func TestCompileSharedFlows(t *testing.T) {
	tests := []struct {
		file   string
		steps  []string
		ending string
		stream bool
		memory string
	}{
		{
			file:   "llm-chain.json",
			steps:  []string{"chatOpenAI_0", "promptTemplate_0", "llmChain_0"},
			ending: "llmChain_0", stream: true,
		},
		{
			file:   "conversation-chain.json",
			steps:  []string{"chatOpenAI_0", "bufferMemory_0", "conversationChain_0"},
			ending: "conversationChain_0", stream: true, memory: "bufferMemory_0",
		},
		{
			file:   "marketplace/chatflows/LLM Chain.json",
			steps:  []string{"promptTemplate_0", "azureChatOpenAI_0", "llmChain_0"},
			ending: "llmChain_0", stream: true,
		},
		{
			file:   "marketplace/chatflows/Conversation Chain.json",
			steps:  []string{"chatOpenAI_0", "bufferMemory_0", "conversationChain_0"},
			ending: "conversationChain_0", stream: true, memory: "bufferMemory_0",
		},
		{
			file: "marketplace/chatflows/Prompt Chaining.json",
			steps: []string{"promptTemplate_0", "chatOpenAI_0", "llmChain_0",
				"promptTemplate_1", "chatOpenAI_1", "llmChain_1"},
			ending: "llmChain_1", stream: true,
		},
		{
			file:   "marketplace/chatflows/Advanced Structured Output Parser.json",
			steps:  []string{"chatPromptTemplate_0", "chatOpenAI_0", "advancedStructuredOutputParser_0", "llmChain_0"},
			ending: "llmChain_0", stream: false, // the output parser reshapes the answer
		},
		{
			file:   "marketplace/chatflows/Input Moderation.json",
			steps:  []string{"chatOpenAI_0", "promptTemplate_0", "chatOpenAI_1", "inputModerationSimple_0", "llmChain_0"},
			ending: "llmChain_0", stream: true,
		},
		{
			file:   "marketplace/chatflows/Tool Agent.json",
			steps:  []string{"calculator_1", "bufferMemory_1", "serpAPI_0", "chatOpenAI_0", "toolAgent_0"},
			ending: "toolAgent_0", stream: true, memory: "bufferMemory_1",
		},
		{
			file: "marketplace/chatflows/Conversational Retrieval QA Chain.json",
			// The loaders feed Faiss, whose index the upsert made: a prediction skips them.
			steps:  []string{"openAIEmbeddings_0", "faiss_0", "chatMistralAI_0", "conversationalRetrievalQAChain_0"},
			ending: "conversationalRetrievalQAChain_0", stream: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := compileFile(t, tc.file)
			ids := stepIDs(p)
			require.Equal(t, tc.steps, ids)
			require.Equal(t, tc.ending, p.Ending)
			require.Equal(t, tc.ending, ids[len(ids)-1], "the ending node runs last")
			require.Equal(t, tc.ending, p.EndingNode().ID)
			for _, id := range ids {
				require.False(t, strings.HasPrefix(id, "stickyNote"), "sticky note %s must not be planned", id)
			}
			require.Equal(t, tc.stream, p.CanStream())
			mem, ok := p.MemoryNode()
			require.Equal(t, tc.memory != "", ok)
			require.Equal(t, tc.memory, mem.ID)
		})
	}
}

func TestCompilePromptChainingOrder(t *testing.T) {
	p := compileFile(t, "marketplace/chatflows/Prompt Chaining.json")
	ids := stepIDs(p)
	require.Less(t, indexOf(ids, "llmChain_0"), indexOf(ids, "promptTemplate_1"))
	require.Less(t, indexOf(ids, "promptTemplate_1"), indexOf(ids, "llmChain_1"))
	require.Equal(t, "llmChain_1", p.Ending)
	for _, s := range p.Steps {
		if s.Node.ID == "promptTemplate_1" {
			require.Equal(t, []string{"llmChain_0"}, s.Needs)
		}
		if s.Node.ID == "llmChain_1" {
			require.ElementsMatch(t, []string{"promptTemplate_1", "chatOpenAI_1"}, s.Needs)
		}
	}
}

func TestCompileUsesKnown(t *testing.T) {
	g, err := chatflow.Parse(readFlow(t, "marketplace/chatflows/Tool Agent.json"))
	require.NoError(t, err)
	known := func(kind string) bool { return kind != "serpAPI" && kind != "calculator" }
	_, err = chatflow.Compile(g, known)
	require.Error(t, err)
	require.True(t, chatflow.IsFlowError(err))
	// Every node it cannot run, at once.
	require.Contains(t, err.Error(), "serpAPI_0 (serpAPI)")
	require.Contains(t, err.Error(), "calculator_1 (calculator)")
	require.Contains(t, err.Error(), "2 nodes")
}

func TestCompileErrors(t *testing.T) {
	onlyChains := func(kind string) bool { return kind != "secretNode" }
	tests := []struct {
		name      string
		nodes     []chatflow.Node
		edges     []chatflow.Edge
		known     func(string) bool
		contains  []string
		hasPrefix string
	}{
		{
			name:     "two node cycle",
			nodes:    []chatflow.Node{chain("llmChain_0", nil), prompt("promptTemplate_0")},
			edges:    []chatflow.Edge{mkEdge("promptTemplate_0", "llmChain_0"), mkEdge("llmChain_0", "promptTemplate_0")},
			contains: []string{"cycle"},
		},
		{
			name: "cycle upstream of a valid ending node",
			nodes: []chatflow.Node{
				model("chatOpenAI_0", nil), prompt("promptTemplate_0"), prompt("promptTemplate_1"), chain("llmChain_0", nil),
			},
			edges: []chatflow.Edge{
				mkEdge("chatOpenAI_0", "llmChain_0"),
				mkEdge("promptTemplate_0", "promptTemplate_1"),
				mkEdge("promptTemplate_1", "promptTemplate_0"),
				mkEdge("promptTemplate_1", "llmChain_0"),
			},
			contains: []string{"cycle", "promptTemplate_0", "promptTemplate_1"},
		},
		{
			name:     "node connected to itself",
			nodes:    []chatflow.Node{model("chatOpenAI_0", nil), chain("llmChain_0", nil)},
			edges:    []chatflow.Edge{mkEdge("chatOpenAI_0", "llmChain_0"), mkEdge("llmChain_0", "llmChain_0")},
			contains: []string{"llmChain_0", "cycle"},
		},
		{
			name:      "no edges",
			nodes:     []chatflow.Node{model("chatOpenAI_0", nil), prompt("promptTemplate_0"), chain("llmChain_0", nil)},
			hasPrefix: "Ending node not found",
		},
		{
			name:      "empty flow",
			hasPrefix: "Ending node not found",
		},
		{
			name: "two ending nodes",
			nodes: []chatflow.Node{
				model("chatOpenAI_0", nil), chain("llmChain_0", nil), model("chatOpenAI_1", nil), chain("llmChain_1", nil),
			},
			edges:    []chatflow.Edge{mkEdge("chatOpenAI_0", "llmChain_0"), mkEdge("chatOpenAI_1", "llmChain_1")},
			contains: []string{"2 ending nodes", "llmChain_0", "llmChain_1"},
		},
		{
			name:      "ending node is a chat model",
			nodes:     []chatflow.Node{prompt("promptTemplate_0"), model("chatOpenAI_0", nil)},
			edges:     []chatflow.Edge{mkEdge("promptTemplate_0", "chatOpenAI_0")},
			hasPrefix: "Ending node must be either a Chain or Agent or Engine",
			contains:  []string{"chatOpenAI_0"},
		},
		{
			name:      "ending node is memory",
			nodes:     []chatflow.Node{model("chatOpenAI_0", nil), mkNode("bufferMemory_0", "bufferMemory", chatflow.CategoryMemory, nil)},
			edges:     []chatflow.Edge{mkEdge("chatOpenAI_0", "bufferMemory_0")},
			hasPrefix: "Ending node must be either a Chain or Agent or Engine",
		},
		{
			name:     "unknown kind in the plan",
			nodes:    []chatflow.Node{mkNode("secret_0", "secretNode", "Tools", nil), chain("llmChain_0", nil)},
			edges:    []chatflow.Edge{mkEdge("secret_0", "llmChain_0")},
			known:    onlyChains,
			contains: []string{"secret_0 (secretNode)"},
		},
		{
			name:     "edge to unknown node",
			nodes:    []chatflow.Node{model("chatOpenAI_0", nil), chain("llmChain_0", nil)},
			edges:    []chatflow.Edge{mkEdge("chatOpenAI_0", "llmChain_0"), mkEdge("llmChain_0", "ghost_0")},
			contains: []string{"edge to unknown node", `"ghost_0"`},
		},
		{
			name:     "edge from unknown node",
			nodes:    []chatflow.Node{model("chatOpenAI_0", nil), chain("llmChain_0", nil)},
			edges:    []chatflow.Edge{mkEdge("ghost_1", "llmChain_0")},
			contains: []string{"edge from unknown node", `"ghost_1"`},
		},
		{
			name:     "duplicate node ids",
			nodes:    []chatflow.Node{model("chatOpenAI_0", nil), model("chatOpenAI_0", nil), chain("llmChain_0", nil)},
			edges:    []chatflow.Edge{mkEdge("chatOpenAI_0", "llmChain_0")},
			contains: []string{`"chatOpenAI_0"`, "twice"},
		},
		{
			name:     "node without id",
			nodes:    []chatflow.Node{model("chatOpenAI_0", nil), {Data: chatflow.NodeData{Name: "llmChain"}}},
			contains: []string{"node 1 has no id"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			known := tc.known
			if known == nil {
				known = allKnown
			}
			p, err := chatflow.Compile(&chatflow.Graph{Nodes: tc.nodes, Edges: tc.edges}, known)
			require.Error(t, err)
			require.Nil(t, p)
			require.True(t, chatflow.IsFlowError(err), "%T is not a flow error", err)
			if tc.hasPrefix != "" {
				require.True(t, strings.HasPrefix(err.Error(), tc.hasPrefix), "message %q", err.Error())
			}
			for _, s := range tc.contains {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestCompileEndingCategories(t *testing.T) {
	tests := []struct {
		name   string
		ending chatflow.Node
	}{
		{"chain", chain("llmChain_0", nil)},
		{"agent", mkNode("toolAgent_0", "toolAgent", chatflow.CategoryAgents, nil)},
		{"engine", mkNode("queryEngine_0", "queryEngine", chatflow.CategoryEngine, nil)},
		{"custom function marked EndingNode", func() chatflow.Node {
			n := mkNode("customFunction_0", "customFunction", "Utilities", nil)
			n.Data.Outputs = map[string]string{"output": "EndingNode"}
			return n
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &chatflow.Graph{
				Nodes: []chatflow.Node{model("chatOpenAI_0", nil), tc.ending},
				Edges: []chatflow.Edge{mkEdge("chatOpenAI_0", tc.ending.ID)},
			}
			p, err := chatflow.Compile(g, allKnown)
			require.NoError(t, err)
			require.Equal(t, tc.ending.ID, p.Ending)
			require.Equal(t, []string{"chatOpenAI_0", tc.ending.ID}, stepIDs(p))
		})
	}
}

func TestCompileSkipsDisconnectedNodes(t *testing.T) {
	g := &chatflow.Graph{
		Nodes: []chatflow.Node{
			mkNode("unwired_0", "secretNode", "Tools", nil), // unknown kind, but never runs
			model("chatOpenAI_0", nil),
			model("chatOpenAI_1", nil), // drawn but not connected
			prompt("promptTemplate_0"),
			chain("llmChain_0", nil),
			{ID: "stickyNote_0", Type: "stickyNote", Data: chatflow.NodeData{ID: "stickyNote_0", Name: "stickyNote"}},
		},
		Edges: []chatflow.Edge{mkEdge("chatOpenAI_0", "llmChain_0"), mkEdge("promptTemplate_0", "llmChain_0")},
	}
	known := func(kind string) bool { return kind != "secretNode" && kind != "stickyNote" }
	p, err := chatflow.Compile(g, known)
	require.NoError(t, err)
	require.Equal(t, []string{"chatOpenAI_0", "promptTemplate_0", "llmChain_0"}, stepIDs(p))
}

func TestCompileDedupesNeeds(t *testing.T) {
	// Two edges from the same model (e.g. into two inputs) are one dependency; Needs keep
	// the order of the edges.
	g := &chatflow.Graph{
		Nodes: []chatflow.Node{model("chatOpenAI_0", nil), prompt("promptTemplate_0"), chain("llmChain_0", nil)},
		Edges: []chatflow.Edge{
			{Source: "promptTemplate_0", Target: "llmChain_0", SourceHandle: "p", TargetHandle: "prompt"},
			{Source: "chatOpenAI_0", Target: "llmChain_0", SourceHandle: "m", TargetHandle: "model"},
			{Source: "chatOpenAI_0", Target: "llmChain_0", SourceHandle: "m", TargetHandle: "otherModel"},
			{Source: "promptTemplate_0", Target: "llmChain_0", SourceHandle: "p", TargetHandle: "prompt"},
		},
	}
	p, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	require.Len(t, p.Steps, 3)
	last := p.Steps[2]
	require.Equal(t, "llmChain_0", last.Node.ID)
	require.Equal(t, []string{"promptTemplate_0", "chatOpenAI_0"}, last.Needs)
	require.Empty(t, p.Steps[0].Needs)
	require.Empty(t, p.Steps[1].Needs)
}

func TestCompileIsDeterministic(t *testing.T) {
	// A wide flow gives the orderer many equally ready nodes to choose from.
	nodes := []chatflow.Node{chain("llmChain_9", nil)}
	var edges []chatflow.Edge
	for _, id := range []string{"m_7", "m_3", "m_1", "m_8", "m_0", "m_5", "m_2", "m_6", "m_4"} {
		nodes = append(nodes, model(id, nil))
		edges = append(edges, mkEdge(id, "mid_0"))
	}
	nodes = append(nodes, prompt("mid_0"), prompt("side_0"))
	edges = append(edges, mkEdge("mid_0", "llmChain_9"), mkEdge("side_0", "llmChain_9"), mkEdge("m_4", "llmChain_9"))
	g := &chatflow.Graph{Nodes: nodes, Edges: edges}

	first, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	require.Equal(t, []string{"m_7", "m_3", "m_1", "m_8", "m_0", "m_5", "m_2", "m_6", "m_4", "mid_0", "side_0", "llmChain_9"},
		stepIDs(first), "ready nodes run in file order")
	for i := 0; i < 50; i++ {
		p, err := chatflow.Compile(g, allKnown)
		require.NoError(t, err)
		require.Equal(t, first, p, "compile %d", i)
	}
	// Parsing the same JSON again gives the same plan too.
	js := readFlow(t, "marketplace/chatflows/Conversational Retrieval QA Chain.json")
	want := compileFile(t, "marketplace/chatflows/Conversational Retrieval QA Chain.json")
	for i := 0; i < 50; i++ {
		g, err := chatflow.Parse(js)
		require.NoError(t, err)
		p, err := chatflow.Compile(g, allKnown)
		require.NoError(t, err)
		require.Equal(t, want, p, "compile %d", i)
	}
}

func TestCanStream(t *testing.T) {
	plan := func(endingInputs map[string]any, models ...chatflow.Node) *chatflow.Plan {
		nodes := append([]chatflow.Node{prompt("promptTemplate_0")}, models...)
		nodes = append(nodes, chain("llmChain_0", endingInputs))
		var edges []chatflow.Edge
		for _, n := range nodes[:len(nodes)-1] {
			edges = append(edges, mkEdge(n.ID, "llmChain_0"))
		}
		p, err := chatflow.Compile(&chatflow.Graph{Nodes: nodes, Edges: edges}, allKnown)
		require.NoError(t, err)
		return p
	}
	llm := func(id string, inputs map[string]any) chatflow.Node {
		return mkNode(id, "openAI", chatflow.CategoryLLMs, inputs)
	}
	tests := []struct {
		name string
		plan *chatflow.Plan
		want bool
	}{
		{"streaming true", plan(nil, model("chatOpenAI_0", map[string]any{"streaming": true})), true},
		{"streaming absent", plan(nil, model("chatOpenAI_0", nil)), true},
		{"streaming string true", plan(nil, model("chatOpenAI_0", map[string]any{"streaming": "true"})), true},
		{"streaming false", plan(nil, model("chatOpenAI_0", map[string]any{"streaming": false})), false},
		{"streaming string false", plan(nil, model("chatOpenAI_0", map[string]any{"streaming": "false"})), false},
		{"LLM counts as a model", plan(nil, llm("openAI_0", nil)), true},
		{"LLM with streaming off", plan(nil, llm("openAI_0", map[string]any{"streaming": false})), false},
		{"one of two models off", plan(nil, model("chatOpenAI_0", nil), model("chatOpenAI_1", map[string]any{"streaming": false})), false},
		{"no model", plan(nil), false},
		{"output parser on the ending node", plan(map[string]any{"outputParser": "{{structuredOutputParser_0.data.instance}}"}, model("chatOpenAI_0", nil)), false},
		{"empty output parser", plan(map[string]any{"outputParser": ""}, model("chatOpenAI_0", nil)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.plan.CanStream())
		})
	}

	t.Run("custom function ending node", func(t *testing.T) {
		end := mkNode("customFunction_0", "customFunction", "Utilities", nil)
		end.Data.Outputs = map[string]string{"output": "EndingNode"}
		p, err := chatflow.Compile(&chatflow.Graph{
			Nodes: []chatflow.Node{model("chatOpenAI_0", nil), end},
			Edges: []chatflow.Edge{mkEdge("chatOpenAI_0", "customFunction_0")},
		}, allKnown)
		require.NoError(t, err)
		require.False(t, p.CanStream())
	})
	t.Run("empty plan", func(t *testing.T) {
		require.False(t, (&chatflow.Plan{}).CanStream())
	})
}

func TestStepString(t *testing.T) {
	require.Equal(t, "llmChain_0 (llmChain)", chatflow.Step{Node: chain("llmChain_0", nil)}.String())
}

// largeFlow is a saved flow of n nodes: a fan of prompts into a chain of chains, every node
// of a kind that cannot run, so compiling it does all its work and then refuses.
func largeFlow(n int) *chatflow.Graph {
	g := &chatflow.Graph{}
	for i := range n {
		id := fmt.Sprintf("unknownChain_%d", i)
		g.Nodes = append(g.Nodes, mkNode(id, "unknownChain", "Chains", nil))
		if i > 0 {
			g.Edges = append(g.Edges, mkEdge(fmt.Sprintf("unknownChain_%d", i-1), id))
		}
		if i > 1 {
			g.Edges = append(g.Edges, mkEdge("unknownChain_0", id))
		}
	}
	return g
}

// Compiling is linear in nodes and edges: a 20,000-node flow took 18-25 s when it was
// quadratic, and an anonymous caller can make the server compile any saved flow.
func BenchmarkCompileLargeFlow(b *testing.B) {
	g := largeFlow(20000)
	known := func(string) bool { return false }
	for b.Loop() {
		_, err := chatflow.Compile(g, known)
		require.ErrorContains(b, err, "Flowgate cannot run 20000 nodes")
	}
}

// A refusal that would name thousands of nodes names twenty and counts the rest.
func TestCompileRefusalOfALargeFlowStaysShort(t *testing.T) {
	_, err := chatflow.Compile(largeFlow(5000), func(string) bool { return false })
	require.ErrorContains(t, err, "unknownChain_19 (unknownChain) and 4980 more")
	require.Less(t, len(err.Error()), 2000)
	require.True(t, chatflow.IsFlowError(err))
}

func TestUpsertPlanRunsTheVectorStoreAndWhatFeedsIt(t *testing.T) {
	g, err := chatflow.Parse(readFlow(t, "marketplace/chatflows/Conversational Retrieval QA Chain.json"))
	require.NoError(t, err)
	all := func(string) bool { return true }
	plan, err := chatflow.UpsertPlan(g, all, "")
	require.NoError(t, err)
	ids := stepIDs(plan)
	require.Equal(t, []string{"openAIEmbeddings_0", "recursiveCharacterTextSplitter_0", "textFile_0", "documentStore_0", "faiss_0"}, ids)
	require.Equal(t, "faiss_0", plan.Ending)

	_, err = chatflow.UpsertPlan(g, all, "chatMistralAI_0")
	require.ErrorContains(t, err, "not a vector store")
	_, err = chatflow.UpsertPlan(g, all, "nope")
	require.ErrorContains(t, err, "not found")
}

// A chain wired only into a chain tool is deferred (it runs when the agent calls the tool);
// the nodes it needs, and a chain another node also consumes, are not.
func TestCompileDefersChainsOfChainTools(t *testing.T) {
	g := &chatflow.Graph{
		Nodes: []chatflow.Node{
			model("m", nil), prompt("p"),
			chain("c", map[string]any{"model": "{{m.data.instance}}", "prompt": "{{p.data.instance}}"}),
			mkNode("t", chatflow.KindChainTool, "Tools", map[string]any{"baseChain": "{{c.data.instance}}"}),
			mkNode("a", "toolAgent", chatflow.CategoryAgents, map[string]any{"tools": []any{"{{t.data.instance}}"}, "model": "{{m.data.instance}}"}),
		},
		Edges: []chatflow.Edge{mkEdge("m", "c"), mkEdge("p", "c"), mkEdge("c", "t"), mkEdge("t", "a"), mkEdge("m", "a")},
	}
	p, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	deferred := map[string]bool{}
	for _, s := range p.Steps {
		deferred[s.Node.ID] = s.Deferred
	}
	require.Equal(t, map[string]bool{"m": false, "p": false, "c": true, "t": false, "a": false}, deferred)
	require.Equal(t, []string{"t"}, p.Steps[len(p.Steps)-1].Node.ToolIDs())
}
