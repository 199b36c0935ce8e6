package e2e

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
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
	t               *testing.T
	bin             string
	env             []string
	temporal        string
	temporalEnv     []string
	temporalProcess *flowgateProcess
	key             string // the DefaultKey the first API process made
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin := buildFlowgate(t)
	cfg := postgresConfig(t)
	home := t.TempDir()
	c := &cluster{t: t, bin: bin, temporalEnv: []string{
		"HOME=" + home, "FLOWGATE_TEMPORAL_PORT=" + fmt.Sprint(freePort(t)), "FLOWGATE_TEMPORAL_UI_PORT=0",
	}}
	c.startTemporal()
	c.env = []string{
		"HOME=" + home, "HOST=127.0.0.1", "PORT=0", "WORKER_PORT=0", "MODE=queue",
		"TEMPORAL_ADDRESS=" + c.temporal, "QUEUE_NAME=cluster-" + uuid.NewString(),
		"DATABASE_TYPE=postgres", "DATABASE_HOST=127.0.0.1", "DATABASE_NAME=" + cfg.Database.Name,
		"DATABASE_USER=postgres", "FLOWISE_SECRETKEY_OVERWRITE=cluster-test-key",
		"FLOWGATE_PREDICTION_TIMEOUT=2m", "FLOWGATE_SEARCH_ATTRIBUTES=false",
	}
	return c
}

// startTemporal runs the Temporal server process, on the same port and state file each time.
func (c *cluster) startTemporal() {
	c.temporalProcess = runFlowgate(c.t, c.bin, "temporal", c.temporalEnv, temporalLine)
	c.temporal = c.temporalProcess.match[1]
}

func (c *cluster) api() *harness {
	h, _ := c.apiProcess()
	return h
}

// apiProcess starts an API replica and returns it with its process, to kill.
func (c *cluster) apiProcess() (*harness, *flowgateProcess) {
	p := runFlowgate(c.t, c.bin, "start", c.env, apiLine)
	if p.key != "" {
		c.key = p.key
	}
	require.NotEmpty(c.t, c.key, "the first API process shows the DefaultKey")
	return &harness{t: c.t, base: "http://127.0.0.1:" + p.match[1], key: c.key}, p
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

	workerB := c.worker() // takes over
	require.NoError(t, workerA.cmd.Process.Kill())
	killed := time.Now()
	mock.SetDelay(0)

	select {
	case r := <-done:
		require.Equal(t, 200, r.status, "%s", r.body)
		require.Contains(t, string(r.body), want)
	case <-time.After(90 * time.Second):
		t.Fatal("the prediction did not complete after its worker was killed")
	}
	// The prediction runs its nodes inside its one workflow task: the dead worker's task is
	// given to the other worker after the task timeout (4 s), not tens of seconds.
	recovered := time.Since(killed)
	t.Logf("answered %v after the worker was killed", recovered.Round(time.Millisecond))
	require.Less(t, recovered, 10*time.Second)
	require.Eventually(t, func() bool { return strings.Contains(workerB.output.String(), "workflow task retried") }, 5*time.Second, 20*time.Millisecond)
	retried := workerB.output.String()
	require.Contains(t, retried, node.WorkflowID(flowID, "killed"))
	require.Contains(t, retried, `"cause":"the previous attempt timed out: its worker died or stalled"`)
	require.Equal(t, 1, strings.Count(retried, "workflow task retried"), "one retried task, one line")
	require.Equal(t, 2, mock.Calls(), "only the interrupted model call ran again")

	var msgs []map[string]any
	api1.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=killed", nil, 200, &msgs)
	require.Len(t, msgs, 2, "exactly one pair of messages")

	// The history records each node once: those of the lost task left no record.
	tc, err := client.Dial(client.Options{HostPort: c.temporal})
	require.NoError(t, err)
	defer tc.Close()
	attempts := map[string]int32{}
	for _, a := range ranActivities(t, tc, node.WorkflowID(flowID, "killed")) {
		attempts[a.name]++
	}
	require.Equal(t, map[string]int32{
		"node.chatOpenAI": 1, "node.promptTemplate": 1, "node.llmChain": 1, "chat.saveMessages": 1,
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

// TestClusterTemporalOutageAndGracefulShutdown takes the Temporal server away under a running
// API tier (requests fail fast with 503 and Retry-After, then recover by themselves once it is
// back), and stops a worker with SIGTERM in the middle of a model call (it finishes the call
// before it exits: the node is not run twice).
func TestClusterTemporalOutageAndGracefulShutdown(t *testing.T) {
	c := newCluster(t)
	c.env = append(c.env, "FLOWGATE_WORKER_STOP_TIMEOUT=15s")
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	h := c.api()
	h.mock = mock
	w := c.worker()
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-outage"})
	flowID := h.createFlow("outage", h.loadFlow("llm-chain.json", cred), nil)
	h.predict(flowID, map[string]any{"question": "warm"})

	// SIGTERM during a model call: the call completes on this worker, once.
	mock.Reset()
	mock.SetDelay(2 * time.Second)
	done := make(chan predictionAnswer, 1)
	go func() { done <- h.predict(flowID, map[string]any{"question": "finish me", "chatId": "graceful"}) }()
	require.Eventually(t, func() bool { return mock.Calls() == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-w.exited:
		require.NoError(t, err, "the worker exits cleanly on SIGTERM:\n%s", w.output.String())
		w.exited <- err
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop on SIGTERM")
	}
	c.worker() // to run what comes after the model call
	select {
	case ans := <-done:
		require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: finish me"), ans.Text)
	case <-time.After(60 * time.Second):
		t.Fatal("the prediction did not finish")
	}
	require.Equal(t, 1, mock.Calls(), "the stopping worker finished its model call: no retry")
	mock.SetDelay(0)

	// Temporal away: fast 503s with Retry-After, readiness says so.
	require.NoError(t, c.temporalProcess.cmd.Process.Kill())
	<-c.temporalProcess.exited
	c.temporalProcess.exited <- nil
	for range 2 {
		start := time.Now()
		status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "down"})
		requireFlowiseError(t, status, body, 503, "workflow service is unavailable")
		require.Less(t, time.Since(start), 10*time.Second, "fails fast, never hangs")
	}
	status, body := h.do("GET", "/readyz", nil)
	require.Equal(t, 503, status, "%s", body)
	require.Contains(t, string(body), "temporal")

	// Back: the API and the worker reconnect by themselves.
	c.startTemporal()
	require.Eventually(t, func() bool {
		status, _ := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "back"})
		return status == 200
	}, 60*time.Second, 500*time.Millisecond)
}
