package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

func TestAbortCancelsTheRun(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowID := h.createFlow("slow", h.loadFlow("llm-chain.json", cred), nil)
	h.mock.SetDelay(30 * time.Second)

	type result struct {
		events []sseEvent
		took   time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		_, events := h.stream(flowID, map[string]any{"question": "hi", "chatId": "abort-me"})
		done <- result{events, time.Since(start)}
	}()
	require.Eventually(t, func() bool { return h.mock.Calls() == 1 }, 20*time.Second, 20*time.Millisecond)

	var out map[string]any
	h.doJSON("PUT", "/api/v1/chatmessage/abort/"+flowID+"/abort-me", nil, 200, &out)
	require.Equal(t, "Chat message aborted", out["message"])

	select {
	case r := <-done:
		require.Equal(t, []string{"start", "error", "end"}, eventNames(r.events))
		var msg string
		require.NoError(t, json.Unmarshal(r.events[1].Data, &msg))
		require.Contains(t, msg, "aborted")
		require.Less(t, r.took, 25*time.Second, "the provider call was cut short")
	case <-time.After(25 * time.Second):
		t.Fatal("the aborted stream did not end")
	}
	h.requireNoMessages(flowID)

	status, body := h.do("PUT", "/api/v1/chatmessage/abort/"+flowID+"/no-such-chat", nil)
	requireFlowiseError(t, status, body, 404, "No running prediction")
}

func TestOneRunPerChat(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowID := h.createFlow("slow", h.loadFlow("llm-chain.json", cred), nil)
	h.mock.SetDelay(8 * time.Second) // well past the grace a closing run gets
	done := make(chan predictionAnswer, 1)
	go func() { done <- h.predict(flowID, map[string]any{"question": "first", "chatId": "busy"}) }()
	require.Eventually(t, func() bool { return h.mock.Calls() == 1 }, 20*time.Second, 20*time.Millisecond)
	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "second", "chatId": "busy"})
	requireFlowiseError(t, status, body, 409, "already running")
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: first"), (<-done).Text)
}

func TestOverrideConfig(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowData := h.loadFlow("llm-chain.json", cred)
	locked := h.createFlow("locked", flowData, nil)
	open := h.createFlow("open", flowData, map[string]any{"apiConfig": `{"overrideConfig":{"status":true,"nodes":{"Prompt Template":[{"name":"template","enabled":true}],"OpenAI":[{"name":"modelName","enabled":false}]}}}`})
	override := map[string]any{"template": "Shout {question}", "modelName": "gpt-override"}

	h.predict(locked, map[string]any{"question": "hi", "overrideConfig": override})
	require.Equal(t, "You are a benchmark bot. Reply to: hi", h.mock.Requests()[0].Messages[0].Content, "overrides are off by default")

	h.predict(open, map[string]any{"question": "hi", "overrideConfig": override})
	req := h.mock.Requests()[1]
	require.Equal(t, "Shout hi", req.Messages[0].Content, "an enabled input is overridden")
	require.Equal(t, "gpt-4o-mini", req.Model, "a disabled input is not")

	// overrideConfig.sessionId names the conversation when no chatId is given.
	ans := h.predict(open, map[string]any{"question": "hi", "overrideConfig": map[string]any{"sessionId": "s-1"}})
	require.Equal(t, "s-1", ans.ChatID)
}

// TestRestartResumesRuns stops the process in the middle of a model call and starts it again
// on the same data: the run continues from that node and its messages are saved once.
func TestRestartResumesRuns(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.WorkerStopTimeout = 100 * time.Millisecond
		c.PredictionTimeout = 2 * time.Minute
	})
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowID := h.createFlow("restart", h.loadFlow("llm-chain.json", cred), nil)
	h.mock.SetDelay(time.Minute)

	go func() {
		// This caller loses its connection when the process stops; the run itself does not.
		resp, err := httpClient.Post(h.base+"/api/v1/prediction/"+flowID, "application/json",
			strings.NewReader(`{"question": "survive", "chatId": "restart"}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return h.mock.Calls() == 1 }, 20*time.Second, 20*time.Millisecond)
	h.stopWithin(200 * time.Millisecond)

	h.mock.SetDelay(0)
	h2 := startHarness(t, h.cfg)
	h2.mock = h.mock
	var msgs []map[string]any
	require.Eventually(t, func() bool {
		h2.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
		return len(msgs) == 2
	}, 60*time.Second, 100*time.Millisecond, "history: %s", h2.historyJSON("chat:"+flowID+":restart"))
	require.Equal(t, "survive", msgs[0]["content"])
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: survive"), msgs[1]["content"])
	require.Equal(t, 2, h.mock.Calls(), "only the interrupted model call ran again")
}

// TestWorkerConcurrencyBoundsNodeExecutions runs a worker with WORKER_CONCURRENCY=1: however
// many predictions arrive, it runs one node at a time, so the model sees one call at a time;
// and with 3 it sees up to 3.
func TestWorkerConcurrencyBoundsNodeExecutions(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) { c.WorkerConcurrency = limit })
			cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
			flowID := h.createFlow("bounded", h.loadFlow("llm-chain.json", cred), nil)
			h.mock.SetDelay(300 * time.Millisecond)
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h.predict(flowID, map[string]any{"question": "hi"})
				}()
			}
			wg.Wait()
			require.Equal(t, 4, h.mock.Calls())
			require.LessOrEqual(t, h.mock.PeakConcurrency(), limit)
			if limit > 1 {
				require.Greater(t, h.mock.PeakConcurrency(), 1, "the bound is not a lock: calls do overlap")
			}
		})
	}
}
