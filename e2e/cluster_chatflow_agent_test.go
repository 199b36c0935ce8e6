package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestClusterChatflowAgentSurvivesWorkerKill runs a classic chatflow's tool agent in queue
// mode, every tier its own process, and kills -9 the only worker while the agent's tool call
// hangs: another worker retries that call alone, and the model turns that finished (the one
// that asked for the tool) are not repeated.
func TestClusterChatflowAgentSurvivesWorkerKill(t *testing.T) {
	k := newKillCluster(t)
	c, h, mock, tool, hits, tc, worker := k.cluster, k.h, k.mock, k.tool, &k.hits, k.tc, k.worker
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-kill-agent"})
	id := h.createFlow("agent", flowJSON(t, []any{
		cfNode("calculator_0", "calculator", "Tools", map[string]any{}),
		cfNode("requestsGet_0", "requestsGet", "Tools", map[string]any{"requestsGetUrl": tool.URL, "requestsGetName": "weather"}),
		withCredential(cfNode("chatOpenAI_0", "chatOpenAI", "Chat Models", map[string]any{"modelName": "gpt-4o-mini", "basepath": mock.URL + "/v1"}), cred),
		cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{
			"tools": []any{ref("calculator_0"), ref("requestsGet_0")}, "model": ref("chatOpenAI_0")}),
	}, []any{
		cfEdge("calculator_0", "toolAgent_0", "tools"), cfEdge("requestsGet_0", "toolAgent_0", "tools"),
		cfEdge("chatOpenAI_0", "toolAgent_0", "model"),
	}), nil)

	answered := make(chan agentReply, 1)
	go func() {
		answered <- h.predictAgent(id, map[string]any{"question": `call calculator with {"input":"2*21"} then call weather with {}`, "chatId": "killed"})
	}()
	require.Eventually(t, func() bool { return hits.Load() == 1 }, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, 2, mock.Calls(), "two model turns finished before the weather call")
	c.worker() // takes over
	require.NoError(t, worker.cmd.Process.Kill())
	select {
	case ans := <-answered:
		require.Equal(t, llmmock.ToolAnswer("sunny"), ans.Text)
		require.Len(t, ans.UsedTools, 2)
		require.Equal(t, "42", ans.UsedTools[0].ToolOutput)
		require.Equal(t, "sunny", ans.UsedTools[1].ToolOutput)
	case <-time.After(90 * time.Second):
		t.Fatal("the prediction did not finish after its worker was killed mid tool call")
	}
	require.Equal(t, int32(2), hits.Load(), "the interrupted call, then its retry")
	require.Equal(t, 3, mock.Calls(), "two turns asked for tools, one answered: none repeated")
	attempts := map[string]int32{}
	for _, a := range ranActivities(t, tc, node.WorkflowID(id, "killed")) {
		attempts[a.name] = max(attempts[a.name], a.attempt)
	}
	require.Equal(t, int32(2), attempts["tool.requestsGet"], "the tool call was retried")
	require.Equal(t, int32(1), attempts["tool.calculator"], "the finished tool call was not")
	require.Equal(t, int32(1), attempts["node.toolAgent"], "no model turn was retried")
	require.Equal(t, 3, countActivity(t, tc, node.WorkflowID(id, "killed"), "node.toolAgent"))

	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+id+"?chatId=killed", nil, 200, &msgs)
	require.Len(t, msgs, 2, "exactly one pair of messages")
}
