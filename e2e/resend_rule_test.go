package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

// TestResendRule: which repeated requests attach to an earlier run and which are new turns,
// on PostgreSQL, whose broker keeps every run's events for an hour (so a run that found an
// earlier run's topic would answer with that run's words).
func TestResendRule(t *testing.T) {
	onPostgres := func(window time.Duration) func(*config.Config) {
		return func(cfg *config.Config) {
			cfg.Database = models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: pgtest.NewDatabase(t), User: pgtest.User}
			cfg.ResendWindow = window
		}
	}
	ask := func(h *harness, flowID, chatID, question string, key string) (int, predictionAnswer) {
		body, err := json.Marshal(map[string]any{"question": question, "chatId": chatID})
		require.NoError(t, err)
		req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		status, raw := h.send(req)
		var ans predictionAnswer
		if status == http.StatusOK {
			require.NoError(t, json.Unmarshal(raw, &ans))
		}
		return status, ans
	}
	answerTo := func(q string) string { return llmmock.Answer("You are a benchmark bot. Reply to: " + q) }

	t.Run("repeats after the window are new turns", func(t *testing.T) {
		h := newHarness(t, onPostgres(0))
		cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-resend"})
		flowID := h.createFlow("chain", h.loadFlow("llm-chain.json", cred), nil)

		_, a1 := ask(h, flowID, "c1", "A", "")
		_, b := ask(h, flowID, "c1", "B", "")
		_, a2 := ask(h, flowID, "c1", "A", "")
		require.Equal(t, answerTo("A"), a2.Text)
		require.NotEqual(t, a1.ChatMessageID, a2.ChatMessageID, "a new turn, not the first A's events replayed")
		require.NotEqual(t, b.ChatMessageID, a2.ChatMessageID)
		require.Equal(t, 3, h.mock.Calls())

		// A failed run is never attached to: the same request again is a retry.
		h.mock.FailNext(1, http.StatusBadRequest)
		status, _ := ask(h, flowID, "c2", "C", "")
		require.NotEqual(t, http.StatusOK, status)
		status, c := ask(h, flowID, "c2", "C", "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, answerTo("C"), c.Text)
		require.Equal(t, 5, h.mock.Calls())

		// A repeat of the question is a new turn; a resend of that repeat while it runs attaches
		// to it (not 409), and no third run starts.
		h.mock.SetDelay(time.Second)
		var wg sync.WaitGroup
		var first predictionAnswer
		wg.Go(func() { _, first = ask(h, flowID, "c1", "A", "") })
		require.Eventually(t, func() bool { return h.mock.Calls() == 6 }, 10*time.Second, 10*time.Millisecond)
		status, resent := ask(h, flowID, "c1", "A", "")
		wg.Wait()
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, first.ChatMessageID, resent.ChatMessageID)
		require.Equal(t, 6, h.mock.Calls())
	})

	t.Run("resends within the window, and keys per chat", func(t *testing.T) {
		h := newHarness(t, onPostgres(time.Minute))
		cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-resend"})
		flowID := h.createFlow("chain", h.loadFlow("llm-chain.json", cred), nil)

		_, first := ask(h, flowID, "c1", "hello", "")
		_, again := ask(h, flowID, "c1", "hello", "")
		require.Equal(t, first.ChatMessageID, again.ChatMessageID, "a resend gets the first run's answer")
		require.Equal(t, 1, h.mock.Calls())

		// One Idempotency-Key in two chats names two requests.
		_, alice := ask(h, flowID, "alice", "from alice", "k1")
		_, bob := ask(h, flowID, "bob", "from bob", "k1")
		require.Equal(t, answerTo("from alice"), alice.Text)
		require.Equal(t, answerTo("from bob"), bob.Text)
		_, aliceAgain := ask(h, flowID, "alice", "from alice", "k1")
		require.Equal(t, alice.ChatMessageID, aliceAgain.ChatMessageID)
		require.Equal(t, 3, h.mock.Calls())

		var msgs []map[string]any
		h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=c1", nil, 200, &msgs)
		require.Len(t, msgs, 2, "the resent turn is stored once")
	})
}

// TestHumanInputSameAnswerTwice: rejecting twice on a loop is two answers, each applied (a
// resend rule keyed on the answer alone would take the second for a resend of the first).
func TestHumanInputSameAnswerTwice(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-hitl"})
	flowID := approvalFlow(t, h, cred)
	var stopped stoppedAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "refund please", "chatId": "twice"}, 200, &stopped)
	reject := map[string]any{"chatId": "twice", "humanInput": map[string]any{"type": "reject"}}
	var second, third stoppedAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, reject, 200, &second)
	require.Len(t, h.mock.Requests(), 2)
	require.NotEqual(t, stopped.Action.ID, second.Action.ID)
	h.doJSON("POST", "/api/v1/prediction/"+flowID, reject, 200, &third)
	require.Len(t, h.mock.Requests(), 3, "the second reject drafted again")
	require.NotEqual(t, second.Action.ID, third.Action.ID)
}
