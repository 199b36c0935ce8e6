package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

// TestIdempotencyKeyRunsOnce: a prediction retried with the same Idempotency-Key, while its run
// still works and again after it ended, gets the first run's answer, and the model is called
// once.
func TestIdempotencyKeyRunsOnce(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-idem"})
	flowID := h.createFlow("chain", h.loadFlow("llm-chain.json", cred), nil)
	// ask returns its failures rather than failing the test: it also runs in a goroutine.
	ask := func() (int, predictionAnswer, error) {
		var ans predictionAnswer
		req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, strings.NewReader(`{"question":"pay once"}`))
		if err != nil {
			return 0, ans, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "payment-42")
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := httpClient.Do(req)
		if err != nil {
			return 0, ans, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err == nil {
			err = json.Unmarshal(raw, &ans)
		}
		return resp.StatusCode, ans, err
	}

	h.mock.SetDelay(2 * time.Second)
	var wg sync.WaitGroup
	var first predictionAnswer
	var firstStatus int
	var firstErr error
	wg.Go(func() { firstStatus, first, firstErr = ask() })
	require.Eventually(t, func() bool { return h.mock.Calls() == 1 }, 20*time.Second, 10*time.Millisecond, "the first run is calling the model")
	status, during, err := ask() // while the first run waits for the model
	wg.Wait()
	require.NoError(t, firstErr)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, firstStatus)
	require.Equal(t, http.StatusOK, status)
	status, after, err := ask() // after it ended
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)

	want := llmmock.Answer("You are a benchmark bot. Reply to: pay once")
	for _, a := range []predictionAnswer{first, during, after} {
		require.Equal(t, want, a.Text)
		require.Equal(t, first.ChatMessageID, a.ChatMessageID, "the first run's answer")
		require.Equal(t, first.ChatID, a.ChatID)
	}
	require.Equal(t, 1, h.mock.Calls(), "one run, one model call")
	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId="+first.ChatID, nil, 200, &msgs)
	require.Len(t, msgs, 2, "the turn is stored once")
}

// runState is GET /api/v1/runs/{runId}'s answer.
type runState struct {
	RunID  string            `json:"runId"`
	ChatID string            `json:"chatId"`
	Status string            `json:"status"`
	Result *predictionAnswer `json:"result"`
	Error  *struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	} `json:"error"`
}

// startAsync posts a prediction that prefers to be answered at once, and requires the 202 (its
// state is the caller's to check: a resend may attach to a run that has ended).
func (h *harness) startAsync(flowID string, body map[string]any, header ...string) (runState, string) {
	h.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(h.t, err)
	req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, bytes.NewReader(raw))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "respond-async")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, out := h.exchange(req)
	require.Equal(h.t, http.StatusAccepted, resp.StatusCode, "%s", out)
	require.Equal(h.t, "respond-async", resp.Header.Get("Preference-Applied"))
	var state runState
	require.NoError(h.t, json.Unmarshal(out, &state))
	require.Equal(h.t, "/api/v1/runs/"+state.RunID, resp.Header.Get("Location"))
	return state, resp.Header.Get("Location")
}

// poll reads a run's state until it has ended.
func (h *harness) poll(location string) runState {
	h.t.Helper()
	var state runState
	require.Eventually(h.t, func() bool {
		h.doJSON("GET", location, nil, 200, &state)
		return state.Status != "RUNNING"
	}, 30*time.Second, 50*time.Millisecond)
	return state
}

// TestAsyncRuns: a prediction sent with Prefer: respond-async is answered 202 at once; its run
// is then polled until it completes with the answer the prediction would have returned, and
// streamed in Flowise's framing by a reader that comes while it works or after it ended. An
// unknown run is 404 (as is an agentflow's, and one named under another chatflow than its own),
// a failed one reports the prediction's error, and a key-bound chatflow's run is read only with
// its key. In one process with SQLite (events in memory: a late reader
// gets the answer whole) and with PostgreSQL (whose broker keeps the run's events for readers
// that come late).
func TestAsyncRuns(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testAsyncRuns(t, newHarness(t)) })
	t.Run("postgres", func(t *testing.T) {
		testAsyncRuns(t, newHarness(t, func(cfg *config.Config) {
			cfg.Database = models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: pgtest.NewDatabase(t), User: pgtest.User}
		}))
	})
}

func testAsyncRuns(t *testing.T, h *harness) {
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-async"})
	flowID := h.createFlow("chain", h.loadFlow("llm-chain.json", cred), nil)
	answerTo := func(q string) string { return llmmock.Answer("You are a benchmark bot. Reply to: " + q) }

	h.mock.SetDelay(time.Second)
	accepted, location := h.startAsync(flowID, map[string]any{"question": "later", "chatId": "async-1"})
	require.Equal(t, "RUNNING", accepted.Status)
	require.Equal(t, "async-1", accepted.ChatID)
	// Answered before the model: the run it started still runs.
	var running runState
	h.doJSON("GET", location, nil, 200, &running)
	require.Equal(t, "RUNNING", running.Status)
	require.Nil(t, running.Result)
	// A reader that comes while the run works gets the whole answer.
	resp, events := h.get(location + "/stream")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	require.Equal(t, answerTo("later"), tokens(t, events))
	require.Equal(t, []string{"start"}, eventNames(events)[:1])
	require.Equal(t, "end", events[len(events)-1].Event)

	done := h.poll(location)
	require.Equal(t, "COMPLETED", done.Status)
	require.NotNil(t, done.Result)
	require.Equal(t, answerTo("later"), done.Result.Text)
	require.Equal(t, "later", done.Result.Question)
	require.Equal(t, "async-1", done.Result.ChatID)
	require.Equal(t, "async-1", done.Result.SessionID)
	require.NotEmpty(t, done.Result.ChatMessageID)
	require.Equal(t, 1, h.mock.Calls())

	// A reader that comes after the run ended still gets the answer, and its metadata.
	_, events = h.get(location + "/stream")
	require.Equal(t, answerTo("later"), tokens(t, events))
	require.Contains(t, eventNames(events), "metadata")
	require.Equal(t, "end", events[len(events)-1].Event)
	require.Equal(t, 1, h.mock.Calls(), "reading a run never runs it again")

	// Unknown runs: a made-up id, and a well-formed one of a run that never was.
	status, body := h.do("GET", "/api/v1/runs/no-such-run", nil)
	requireFlowiseError(t, status, body, http.StatusNotFound, "Run no-such-run not found")
	never := base64.RawURLEncoding.EncodeToString([]byte(flowID + "\nasync-1\n" + uuid.NewString()))
	for _, path := range []string{"/api/v1/runs/" + never, "/api/v1/runs/" + never + "/stream"} {
		status, body = h.do("GET", path, nil)
		requireFlowiseError(t, status, body, http.StatusNotFound, "not found")
	}

	// A failed run reports the error its prediction would have had: the status of the same
	// failure answered synchronously, and its message (but for the call, which streamed: an async
	// run publishes its tokens).
	h.mock.SetDelay(0)
	h.mock.FailNext(1, http.StatusBadRequest)
	_, failing := h.startAsync(flowID, map[string]any{"question": "doomed", "chatId": "async-2"})
	failed := h.poll(failing)
	require.Equal(t, "FAILED", failed.Status)
	require.NotNil(t, failed.Error)
	h.mock.FailNext(1, http.StatusBadRequest)
	status, body = h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "doomed", "chatId": "async-3"})
	requireFlowiseError(t, status, body, failed.Error.StatusCode,
		strings.Replace(failed.Error.Message, "stream completion", "create completion", 1))

	// A key-bound chatflow's run is read with its key only.
	var key struct{ ID, APIKey string }
	h.doJSON("POST", "/api/v1/apikey", map[string]any{"keyName": "async"}, 200, &key)
	bound := h.createFlow("bound", h.loadFlow("llm-chain.json", cred), map[string]any{"apikeyid": key.ID})
	owner := *h
	owner.key = key.APIKey
	_, boundRun := owner.startAsync(bound, map[string]any{"question": "secret"})
	for _, stranger := range []string{"", h.key} {
		anon := *h
		anon.key = stranger
		status, body = anon.do("GET", boundRun, nil)
		requireFlowiseError(t, status, body, http.StatusUnauthorized, "Unauthorized")
		status, body = anon.do("GET", boundRun+"/stream", nil)
		requireFlowiseError(t, status, body, http.StatusUnauthorized, "Unauthorized")
	}
	require.Equal(t, answerTo("secret"), owner.poll(boundRun).Result.Text)
	// A run id is read under its own chatflow only: the bound chatflow's chat and run named
	// under the public chatflow are no run.
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(boundRun, "/api/v1/runs/"))
	require.NoError(t, err)
	parts := strings.Split(string(raw), "\n")
	require.Len(t, parts, 3)
	require.Equal(t, bound, parts[0])
	disguised := base64.RawURLEncoding.EncodeToString([]byte(flowID + "\n" + parts[1] + "\n" + parts[2]))
	anon := *h
	anon.key = ""
	status, body = anon.do("GET", "/api/v1/runs/"+disguised, nil)
	requireFlowiseError(t, status, body, http.StatusNotFound, "not found")

	// An agentflow's run is not a chatflow prediction's: no run id names it.
	agentflow := h.createFlow("reply", agentflowReply(t), map[string]any{"type": "AGENTFLOW"})
	var agentRun struct{ ChatID, ExecutionID string }
	h.doJSON("POST", "/api/v1/prediction/"+agentflow, map[string]any{"question": "hello"}, 200, &agentRun)
	require.NotEmpty(t, agentRun.ExecutionID)
	agentRunID := base64.RawURLEncoding.EncodeToString([]byte(agentflow + "\n" + agentRun.ChatID + "\n" + agentRun.ExecutionID))
	status, body = h.do("GET", "/api/v1/runs/"+agentRunID, nil)
	requireFlowiseError(t, status, body, http.StatusNotFound, "not found")

	// The same async request again with its Idempotency-Key is the same run, and its model is
	// called once; once the run has completed, the resend's 202 says so.
	calls := h.mock.Calls()
	first, firstRun := h.startAsync(flowID, map[string]any{"question": "keyed"}, "Idempotency-Key", "async-key")
	require.Equal(t, "RUNNING", first.Status)
	require.Equal(t, "COMPLETED", h.poll(firstRun).Status)
	again, _ := h.startAsync(flowID, map[string]any{"question": "keyed"}, "Idempotency-Key", "async-key")
	require.Equal(t, first.RunID, again.RunID)
	require.Equal(t, "COMPLETED", again.Status, "the run it attached to has ended")
	require.Equal(t, calls+1, h.mock.Calls(), "one run, one model call")
}

// agentflowReply is an agentflow that answers without a model: its start, then a direct reply.
func agentflowReply(t *testing.T) string {
	raw, err := json.Marshal(map[string]any{
		"nodes": []any{
			afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
			afNode("directReplyAgentflow_0", "directReplyAgentflow", "Reply", map[string]any{"directReplyMessage": "hi"}),
		},
		"edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "directReplyAgentflow_0")},
	})
	require.NoError(t, err)
	return string(raw)
}

// get reads an SSE answer whole, with the harness's key.
func (h *harness) get(path string) (*http.Response, []sseEvent) {
	h.t.Helper()
	req, err := http.NewRequest("GET", h.base+path, nil)
	require.NoError(h.t, err)
	resp, all := h.exchange(req)
	return resp, parseSSE(h.t, all)
}
