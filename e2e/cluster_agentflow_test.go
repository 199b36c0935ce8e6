package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestClusterAgentflowSurvivesWorkerKills runs agentflows in queue mode with every tier its
// own process and kills -9 the only worker twice: once while a run is parked for human input
// (another worker picks the run up from its history when the answer comes), and once in the
// middle of an agent's tool call (another worker retries that call alone). No node runs again.
func TestClusterAgentflowSurvivesWorkerKills(t *testing.T) {
	k := newKillCluster(t)
	c, h, mock, tool, hits, tc, worker := k.cluster, k.h, k.mock, k.tool, &k.hits, k.tc, k.worker
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-kill"})

	// Parked: the worker dies while the run waits for a person; the answer resumes it on another.
	approval := approvalFlow(t, h, cred)
	var stopped stoppedAnswer
	h.doJSON("POST", "/api/v1/prediction/"+approval, map[string]any{"question": "refund please", "chatId": "parked"}, 200, &stopped)
	require.NotEmpty(t, stopped.Action.ID)
	require.NoError(t, worker.cmd.Process.Kill())
	worker = c.worker()
	var done agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+approval, map[string]any{"chatId": "parked", "humanInput": map[string]any{"type": "proceed"}}, 200, &done)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "humanInputAgentflow_0", "directReplyAgentflow_0"}, done.ran())
	require.Equal(t, 1, mock.Calls(), "the draft was not written again")
	require.Equal(t, 1, countActivity(t, tc, node.WorkflowID(approval, "parked"), "node.llmAgentflow"))

	// Mid tool call: the worker dies while the tool's request hangs; the next worker retries
	// the call, and the model's turn that asked for it is not repeated.
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("agentAgentflow_0", "agentAgentflow", "Forecaster", map[string]any{
			"agentModel":       "chatOpenAI",
			"agentModelConfig": map[string]any{"credential": cred, "modelName": "gpt-4o-mini", "basepath": mock.URL + "/v1", "agentModel": "chatOpenAI"},
			"agentTools": []any{map[string]any{"agentSelectedTool": "requestsGet", "agentSelectedToolConfig": map[string]any{
				"requestsGetUrl": tool.URL, "requestsGetName": "weather"}}},
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "agentAgentflow_0")}})
	require.NoError(t, err)
	forecast := h.createFlow("forecast", string(raw), map[string]any{"type": "AGENTFLOW"})
	mock.Reset()
	answered := make(chan agentAnswer, 1)
	go func() {
		var ans agentAnswer
		h.doJSON("POST", "/api/v1/prediction/"+forecast, map[string]any{"question": "call weather with {}", "chatId": "tool"}, 200, &ans)
		answered <- ans
	}()
	require.Eventually(t, func() bool { return hits.Load() == 1 }, 30*time.Second, 20*time.Millisecond)
	c.worker() // takes over
	require.NoError(t, worker.cmd.Process.Kill())
	select {
	case ans := <-answered:
		require.Equal(t, llmmock.ToolAnswer("sunny"), ans.Text)
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not finish after its worker was killed mid tool call")
	}
	require.Equal(t, int32(2), hits.Load(), "the interrupted call, then its retry")
	require.Equal(t, 2, mock.Calls(), "one turn asked for the tool, one answered: none repeated")
	attempts := map[string]int32{}
	for _, a := range ranActivities(t, tc, node.WorkflowID(forecast, "tool")) {
		attempts[a.name] = max(attempts[a.name], a.attempt)
	}
	require.Equal(t, int32(2), attempts["tool.requestsGet"], "the tool call was retried")
	require.Equal(t, int32(1), attempts["node.agentAgentflow"], "no model turn was retried")
	require.Equal(t, 2, countActivity(t, tc, node.WorkflowID(forecast, "tool"), "node.agentAgentflow"))
}

// countActivity counts a run's activities of one type.
func countActivity(t *testing.T, tc client.Client, workflowID, name string) int {
	t.Helper()
	n := 0
	for _, a := range ranActivities(t, tc, workflowID) {
		if a.name == name {
			n++
		}
	}
	return n
}

// killCluster is queue mode with every tier its own process, one worker to kill, the mock
// model, a Temporal client to read histories with, and a tool whose first call hangs until
// the worker making it dies (then answers "sunny").
type killCluster struct {
	cluster *cluster
	h       *harness
	mock    *llmmock.Server
	tool    *httptest.Server
	hits    atomic.Int32 // calls the tool received
	tc      client.Client
	worker  *flowgateProcess
}

func newKillCluster(t *testing.T) *killCluster {
	k := &killCluster{}
	k.tool = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k.hits.Add(1) == 1 {
			<-r.Context().Done() // the first call hangs until its worker dies
			return
		}
		_, _ = w.Write([]byte("sunny"))
	}))
	t.Cleanup(k.tool.Close)
	k.cluster = newCluster(t)
	k.cluster.env = append(k.cluster.env, "FLOWGATE_HTTP_ALLOW_LIST=127.0.0.1")
	k.mock = llmmock.NewTestServer(t, llmmock.Options{})
	k.h = k.cluster.api()
	k.h.mock = k.mock
	k.worker = k.cluster.worker()
	tc, err := client.Dial(client.Options{HostPort: k.cluster.temporal})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	k.tc = tc
	return k
}
