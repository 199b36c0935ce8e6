package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/api"
	"github.com/flowgate/flowgate/llmmock"
)

var (
	temporalLine = regexp.MustCompile(`Temporal frontend: (\S+)`)
	workerLine   = regexp.MustCompile(`Flowgate worker health: (http://\S+)/healthz`)
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster is queue mode on loopback, every tier its own process: a Temporal server, API
// replicas and workers, sharing the local PostgreSQL.
type cluster struct {
	t        *testing.T
	bin      string
	env      []string
	temporal string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin := buildFlowgate(t)
	cfg := postgresConfig(t)
	home := t.TempDir()
	tp := runFlowgate(t, bin, "temporal", []string{
		"HOME=" + home, "FLOWGATE_TEMPORAL_PORT=" + fmt.Sprint(freePort(t)), "FLOWGATE_TEMPORAL_UI_PORT=0",
	}, temporalLine)
	c := &cluster{t: t, bin: bin, temporal: tp.match[1]}
	c.env = []string{
		"HOME=" + home, "HOST=127.0.0.1", "PORT=0", "WORKER_PORT=0", "MODE=queue",
		"TEMPORAL_ADDRESS=" + c.temporal, "QUEUE_NAME=cluster-" + uuid.NewString(),
		"DATABASE_TYPE=postgres", "DATABASE_HOST=127.0.0.1", "DATABASE_NAME=" + cfg.Database.Name,
		"DATABASE_USER=postgres", "FLOWISE_SECRETKEY_OVERWRITE=cluster-test-key",
		"FLOWGATE_PREDICTION_TIMEOUT=2m", "FLOWGATE_SEARCH_ATTRIBUTES=false",
	}
	return c
}

func (c *cluster) api() *harness {
	p := runFlowgate(c.t, c.bin, "start", c.env, apiLine)
	return &harness{t: c.t, base: "http://127.0.0.1:" + p.match[1]}
}

func (c *cluster) worker() *flowgateProcess {
	p := runFlowgate(c.t, c.bin, "worker", c.env, workerLine)
	resp, err := http.Get(p.match[1] + "/healthz")
	require.NoError(c.t, err)
	resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	return p
}

// TestClusterSurvivesAWorkerKilledMidCall runs 2 API processes and workers as separate
// processes, kills -9 the worker in the middle of the model call, and requires that the
// prediction still answers, that finished nodes did not run again and that exactly one pair of
// messages is saved.
func TestClusterSurvivesAWorkerKilledMidCall(t *testing.T) {
	c := newCluster(t)
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	api1, api2 := c.api(), c.api()
	api1.mock, api2.mock = mock, mock
	workerA := c.worker()

	cred := api1.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-cluster"})
	flowID := api1.createFlow("cluster", api1.loadFlow("llm-chain.json", cred), nil)
	want := llmmock.Answer("You are a benchmark bot. Reply to: hi")

	// Either replica answers, and streams from a worker in another process.
	require.Equal(t, want, api2.predict(flowID, map[string]any{"question": "hi"}).Text)
	_, events := api1.stream(flowID, map[string]any{"question": "hi"})
	require.Equal(t, want, tokens(t, events))

	mock.Reset()
	mock.SetDelay(time.Minute)
	type result struct {
		status int
		body   []byte
	}
	done := make(chan result, 1)
	go func() {
		status, body := api2.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "hi", "chatId": "killed"})
		done <- result{status, body}
	}()
	require.Eventually(t, func() bool { return mock.Calls() == 1 }, 30*time.Second, 20*time.Millisecond)

	c.worker() // worker B takes over
	require.NoError(t, workerA.cmd.Process.Kill())
	mock.SetDelay(0)

	select {
	case r := <-done:
		require.Equal(t, 200, r.status, "%s", r.body)
		require.Contains(t, string(r.body), want)
	case <-time.After(90 * time.Second):
		t.Fatal("the prediction did not complete after its worker was killed")
	}
	require.Equal(t, 2, mock.Calls(), "only the interrupted model call ran again")

	var msgs []map[string]any
	api1.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=killed", nil, 200, &msgs)
	require.Len(t, msgs, 2, "exactly one pair of messages")

	// Every node before the model call finished once, on its first attempt.
	tc, err := client.Dial(client.Options{HostPort: c.temporal})
	require.NoError(t, err)
	defer tc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := tc.GetWorkflowHistory(ctx, api.WorkflowID(flowID, "killed"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := map[int64]string{}
	attempts := map[string]int32{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			attempts[scheduled[a.GetScheduledEventId()]] = a.GetAttempt()
		}
	}
	require.Equal(t, map[string]int32{
		"node.chatOpenAI": 1, "node.promptTemplate": 1, "node.llmChain": 2, "chat.saveMessages": 1,
	}, attempts)
	require.False(t, strings.Contains(workerA.output.String(), "sk-cluster"))

	// Abort through one replica reaches the node running in a worker process, while the
	// client streams from the other replica.
	mock.SetDelay(time.Minute)
	streamed := make(chan []sseEvent, 1)
	go func() {
		_, events := api1.stream(flowID, map[string]any{"question": "stop me", "chatId": "aborted"})
		streamed <- events
	}()
	require.Eventually(t, func() bool { return mock.Calls() == 3 }, 30*time.Second, 20*time.Millisecond)
	api2.doJSON("PUT", "/api/v1/chatmessage/abort/"+flowID+"/aborted", nil, 200, nil)
	select {
	case events := <-streamed:
		require.Equal(t, []string{"start", "error", "end"}, eventNames(events))
	case <-time.After(30 * time.Second):
		t.Fatal("the aborted stream did not end")
	}
	api1.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=aborted", nil, 200, &msgs)
	require.Empty(t, msgs)
}
