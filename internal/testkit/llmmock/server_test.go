package llmmock

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestFailNextCallsAndReset(t *testing.T) {
	s := NewTestServer(t, Options{})
	body := `{"model":"llama3","stream":false,"messages":[{"role":"user","content":"hi"}]}`
	s.FailNext(2, http.StatusServiceUnavailable)

	for range 2 {
		resp := post(t, s.URL+"/api/chat", body)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		var e struct{ Error string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		require.NotEmpty(t, e.Error)
	}
	resp := post(t, s.URL+"/api/chat", body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var answer struct {
		Message struct{ Content string }
		Done    bool
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.Equal(t, Answer("hi"), answer.Message.Content)
	require.True(t, answer.Done)

	require.Equal(t, 3, s.Calls())
	require.Len(t, s.Requests(), 3)
	s.Reset()
	require.Zero(t, s.Calls())
	require.Empty(t, s.Requests())
}

func TestOpenAIStreamWireFormat(t *testing.T) {
	s := NewTestServer(t, Options{ChunkCount: 2})
	resp := post(t, s.URL+"/v1/chat/completions",
		`{"model":"gpt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":[{"type":"text","text":"yo"}]}]}`)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))

	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, data)
		}
	}
	require.NoError(t, sc.Err())
	// two content chunks, the finish chunk, the usage chunk, [DONE]
	require.Len(t, events, 5)
	require.Equal(t, "[DONE]", events[4])
	require.Contains(t, events[2], `"finish_reason":"stop"`)
	require.Contains(t, events[3], `"choices":[]`)
	require.Contains(t, events[3], `"usage"`)
	require.Equal(t, "yo", s.Requests()[0].Messages[0].Content)
}

func TestAnthropicRecordsSystemPrompt(t *testing.T) {
	s := NewTestServer(t, Options{})
	resp := post(t, s.URL+"/v1/messages",
		`{"model":"claude","max_tokens":10,"system":[{"type":"text","text":"be brief"}],"messages":[{"role":"user","content":"q"}]}`)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))

	require.Equal(t, []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "q"}}, s.Requests()[0].Messages)
}

func TestRejectsEmptyMessages(t *testing.T) {
	s := NewTestServer(t, Options{})
	resp := post(t, s.URL+"/v1/chat/completions", `{"model":"gpt","messages":[]}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Zero(t, s.Calls(), "malformed requests are not completion calls")
}

func TestRecallQuotesTheFirstUserTurn(t *testing.T) {
	s := NewTestServer(t, Options{Recall: true})
	answer := func(body string) string {
		t.Helper()
		resp := post(t, s.URL+"/v1/chat/completions", body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out struct {
			Choices []struct{ Message struct{ Content string } }
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Len(t, out.Choices, 1)
		return out.Choices[0].Message.Content
	}

	first := answer(`{"model":"gpt","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"my name is Ada"}]}`)
	require.Equal(t, AnswerRecalling("my name is Ada"), first)
	require.Equal(t, Answer("my name is Ada")+" (no earlier messages)", first)

	second := answer(`{"model":"gpt","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"my name is Ada"},` +
		`{"role":"assistant","content":"hello"},{"role":"user","content":"what is my name?"}]}`)
	require.Equal(t, AnswerRecalling("my name is Ada", "what is my name?"), second)
	require.Equal(t, Answer("what is my name?")+" (you first said [my name is Ada])", second)
}
