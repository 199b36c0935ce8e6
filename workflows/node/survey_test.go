package node_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestMarketplaceCatalog is the catalog a Flowise user checks first: every classic chatflow
// of Flowise 3.1.2's marketplace runs, but for those that need a service outside this machine
// (Pinecone, Replicate, HuggingFace, GitHub, OpenAI's Assistants API), Python (the CSV agent)
// or LlamaIndex, and those name exactly the nodes that stand in the way.
func TestMarketplaceCatalog(t *testing.T) {
	outside := map[string][]string{
		"CSV Agent.json":                {"csvAgent"},
		"Context Chat Engine.json":      {"chatOpenAI_LlamaIndex", "contextChatEngine", "openAIEmbedding_LlamaIndex", "pineconeLlamaIndex"},
		"Github Docs QnA.json":          {"github"},
		"HuggingFace LLM Chain.json":    {"huggingFaceInference_LLMs"},
		"Image Generation.json":         {"replicate"},
		"Multiple Documents QnA.json":   {"pinecone"},
		"OpenAI Assistant.json":         {"openAIAssistant"},
		"Query Engine.json":             {"chatAnthropic_LlamaIndex", "compactrefineLlamaIndex", "openAIEmbedding_LlamaIndex", "pineconeLlamaIndex", "queryEngine"},
		"Replicate LLM.json":            {"replicate"},
		"Simple Chat Engine.json":       {"azureChatOpenAI_LlamaIndex", "simpleChatEngine"},
		"SubQuestion Query Engine.json": {"chatOpenAI_LlamaIndex", "compactrefineLlamaIndex", "openAIEmbedding_LlamaIndex", "pineconeLlamaIndex", "queryEngine", "queryEngineToolLlamaIndex", "subQuestionQueryEngine"},
	}
	files := fixture.Glob(t, "flows", "marketplace", "chatflows", "*.json")
	require.Len(t, files, 24, "Flowise 3.1.2 ships 24 chatflow templates")
	var runs []string
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			s, err := node.SurveyFlow(string(fixture.Read(t, "flows", "marketplace", "chatflows", name)), false)
			require.NoError(t, err)
			require.NotEmpty(t, s.Nodes)
			got := s.UnsupportedKinds()
			slices.Sort(got)
			want := slices.Clone(outside[name])
			slices.Sort(want)
			require.Equal(t, want, got, "nodes that do not run: %v", s.Unsupported())
			for _, n := range s.Unsupported() {
				require.NotEmpty(t, n.Reason)
				require.NotEqual(t, "stickyNote", n.Kind, "a sticky note is not a node that runs or not")
			}
			if len(want) == 0 {
				runs = append(runs, name)
			}
		})
	}
	require.Len(t, runs, 13, "the templates that run: %v", runs)
}

func TestSurveyOfAnAgentflowGivesEachNodesReasons(t *testing.T) {
	flow := `{"nodes":[
	 {"id":"startAgentflow_0","data":{"name":"startAgentflow","label":"Start"}},
	 {"id":"agentAgentflow_0","data":{"name":"agentAgentflow","label":"Agent","inputs":{"agentModel":"chatHuggingFace",
	   "agentTools":[{"agentSelectedTool":"braveSearchAPI"}]}}},
	 {"id":"x_0","data":{"name":"mysteryAgentflow","label":"X"}},
	 {"id":"stickyNoteAgentflow_0","data":{"name":"stickyNoteAgentflow"}}],
	 "edges":[{"source":"startAgentflow_0","target":"agentAgentflow_0"},{"source":"agentAgentflow_0","target":"x_0"}]}`
	require.True(t, node.LooksLikeAgentflow(flow))
	s, err := node.SurveyFlow(flow, true)
	require.NoError(t, err)
	require.Len(t, s.Nodes, 3, "the sticky note is left out")
	require.True(t, s.Nodes[0].Runs)
	agent := s.Nodes[1]
	require.False(t, agent.Runs)
	require.Contains(t, agent.Reason, "braveSearchAPI")
	require.Contains(t, agent.Reason, "cannot call tools", "both of the agent's reasons, in one entry")
	require.Equal(t, []string{"agentAgentflow", "mysteryAgentflow"}, s.UnsupportedKinds())
}

// Flowise's file tools are known but refused: a survey says so, with the reason, in chatflows
// and as an agentflow Agent's tools.
func TestSurveyReportsRefusedKinds(t *testing.T) {
	chat := `{"nodes":[{"id":"readFile_0","data":{"name":"readFile"}},{"id":"toolAgent_0","data":{"name":"toolAgent"}}],"edges":[]}`
	s, err := node.SurveyFlow(chat, false)
	require.NoError(t, err)
	require.Equal(t, []string{"readFile"}, s.UnsupportedKinds())
	require.Contains(t, s.Unsupported()[0].Reason, "no local disk")

	agent := `{"nodes":[{"id":"startAgentflow_0","data":{"name":"startAgentflow"}},
	 {"id":"agentAgentflow_0","data":{"name":"agentAgentflow","inputs":{"agentModel":"chatOpenAI","agentTools":[{"agentSelectedTool":"writeFile"}]}}}],
	 "edges":[{"source":"startAgentflow_0","target":"agentAgentflow_0"}]}`
	s, err = node.SurveyFlow(agent, true)
	require.NoError(t, err)
	require.False(t, s.Nodes[1].Runs)
	require.Contains(t, s.Nodes[1].Reason, "tool writeFile: Flowgate gives flows no local disk")
}
