package nodekit_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// A flow another flow runs travels checked and compiled, its secrets redacted: never as its
// flowData, which a later version might read differently and which holds them.
func TestChildFlowTravelsAsACheckedPlan(t *testing.T) {
	sqlFlow := `{"nodes":[
	 {"id":"chatOpenAI_0","data":{"name":"chatOpenAI","category":"Chat Models","inputs":{}}},
	 {"id":"sqlDatabaseChain_0","data":{"name":"sqlDatabaseChain","category":"Chains","inputs":{"model":"{{chatOpenAI_0.data.instance}}","url":"postgres://u:child-pw@db/x"}}}],
	 "edges":[{"source":"chatOpenAI_0","target":"sqlDatabaseChain_0"}]}`
	child, err := nodekit.ChildFlow(&models.ChatFlow{ID: "f1", Type: models.TypeChatflow, FlowData: sqlFlow}, "how many?")
	require.NoError(t, err)
	require.NotNil(t, child.Plan)
	require.Empty(t, child.FlowData)
	require.Equal(t, "how many?", child.Question)
	raw, err := json.Marshal(child)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "child-pw")
	require.Contains(t, string(raw), node.RedactedInput)

	agentflow := `{"nodes":[{"id":"startAgentflow_0","data":{"name":"startAgentflow","inputs":{}}}],"edges":[]}`
	child, err = nodekit.ChildFlow(&models.ChatFlow{ID: "f2", Type: models.TypeAgentflow, FlowData: agentflow}, "hi")
	require.NoError(t, err)
	require.NotNil(t, child.Graph)
	require.Nil(t, child.Plan)

	unsupported := `{"nodes":[{"id":"replicate_0","data":{"name":"replicate","category":"LLMs","inputs":{}}},
	 {"id":"llmChain_0","data":{"name":"llmChain","category":"Chains","inputs":{"model":"{{replicate_0.data.instance}}"}}}],
	 "edges":[{"source":"replicate_0","target":"llmChain_0"}]}`
	_, err = nodekit.ChildFlow(&models.ChatFlow{ID: "f3", Type: models.TypeChatflow, FlowData: unsupported}, "hi")
	require.ErrorContains(t, err, "replicate_0 (replicate)")
}
