package api

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestChatRequestBecomesAPrediction: the last user message is the question, the user and
// assistant messages before it the history in Flowise's roles, system messages are left out,
// and text parts are joined (an assistant's refusal parts left out).
func TestChatRequestBecomesAPrediction(t *testing.T) {
	req, err := parseChatRequest([]byte(`{"model":"support","stream":true,"temperature":0.2,"messages":[
		{"role":"system","content":"be terse"},
		{"role":"user","content":"my name is Ada"},
		{"role":"assistant","content":null},
		{"role":"assistant","content":[{"type":"text","text":"Hello "},{"type":"refusal","refusal":"no"},{"type":"text","text":"Ada"}]},
		{"role":"user","content":"what is my name?"}]}`))
	require.NoError(t, err)
	require.Equal(t, "support", req.Model)
	body := req.predictionBody()
	require.Equal(t, "what is my name?", body.Question)
	require.True(t, bool(body.Streaming))
	require.Equal(t, history{
		{Role: models.RoleUser, Content: "my name is Ada"},
		{Role: models.RoleAPI, Content: ""},
		{Role: models.RoleAPI, Content: "Hello Ada"},
	}, body.History)
	require.Empty(t, body.problem())
}

// TestChatRequestRefusals: what a chatflow cannot answer is refused with the reason.
func TestChatRequestRefusals(t *testing.T) {
	for body, want := range map[string]string{
		`{"messages":[{"role":"user","content":"hi"}]}`:                                                       "model is required",
		`{"model":"m","messages":[]}`:                                                                         "at least the user's question",
		`{"model":"m","messages":[{"role":"assistant","content":"hi"}]}`:                                      "last message must be the user's question",
		`{"model":"m","messages":[{"role":"tool","content":"42"},{"role":"user","content":"hi"}]}`:            `role "tool" is not supported`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`: `type "image_url" are not supported`,
		`{"model":"m","messages":[{"role":"user","content":42}]}`:                                             "must be a string or an array of text parts",
		`{"model":"a\u0000b","messages":[{"role":"user","content":"hi"}]}`:                                    "printable",
		`{"model":"m","messages":{}}`:                                                                         "must be a JSON array",
		`not json`:                                                                                            "invalid JSON body",
		`{"model":"` + strings.Repeat("m", maxModelName+1) + `","messages":[{"role":"user","content":"hi"}]}`: "at most 255",
	} {
		_, err := parseChatRequest([]byte(body))
		require.ErrorContains(t, err, want, body)
	}
	many := `{"model":"m","messages":[` + strings.Repeat(`{"role":"user","content":"hi"},`, maxChatMessages) + `{"role":"user","content":"hi"}]}`
	_, err := parseChatRequest([]byte(many))
	require.ErrorIs(t, err, errBodyLimit)
}

// FuzzChatRequest: no request panics the parser, takes long, or yields a prediction beyond the
// bounds: a history within maxHistory, text within the request, and a question to ask.
func FuzzChatRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"q"}]}`))
	f.Add([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"a"}]},{"role":"assistant","content":null},{"role":"user","content":"b"}]}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[[[[[]]]]]}]}`))
	f.Add([]byte(`{"model":"\ud800","messages":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > maxChatRequestBytes {
			return
		}
		start := time.Now()
		req, err := parseChatRequest(raw)
		require.Less(t, time.Since(start), time.Second, "parsing %d bytes", len(raw))
		if err != nil {
			return
		}
		body := req.predictionBody()
		require.LessOrEqual(t, len(body.History), maxHistory)
		require.LessOrEqual(t, len(body.Question), len(raw))
		require.NotEmpty(t, req.Model)
		for _, m := range body.History {
			require.Contains(t, []string{models.RoleUser, models.RoleAPI}, m.Role)
		}
	})
}

// TestRunIDsNameTheirRun: a run id is read back into its chatflow, chat and run, and anything
// else is no run id.
func TestRunIDsNameTheirRun(t *testing.T) {
	ref := runRef{chatflowID: "6f1e2d3c-0000-4000-8000-00000000abcd", chatID: "chat: one/two", runID: "0195b7c2-6d1a-7c3e-9a51-3b8c2d7e6f10"}
	got, ok := decodeRunRef(ref.encode())
	require.True(t, ok)
	require.Equal(t, ref, got)
	require.Equal(t, node.WorkflowID(ref.chatflowID, ref.chatID), got.workflowID())
	for _, bad := range []string{"", "6f1e2d3c", "!!!", runRef{chatflowID: "f", chatID: "c", runID: "not-a-uuid"}.encode(),
		runRef{chatflowID: "f", chatID: "c\nx", runID: ref.runID}.encode(), runRef{chatflowID: "", chatID: "c", runID: ref.runID}.encode()} {
		_, ok := decodeRunRef(bad)
		require.False(t, ok, bad)
	}
}

// TestPreferRespondAsync: the respond-async preference is found among others, in any case and
// with parameters, and nothing else asks for it.
func TestPreferRespondAsync(t *testing.T) {
	for header, want := range map[string]bool{
		"respond-async":                  true,
		"wait=10, Respond-Async":         true,
		"respond-async; foo=bar":         true,
		"return=minimal":                 false,
		"respond-asyncx":                 false,
		"":                               false,
		"handling=lenient,respond-async": true,
	} {
		c := newGinContext(t)
		if header != "" {
			c.Request.Header.Set("Prefer", header)
		}
		require.Equal(t, want, prefersAsync(c), header)
	}
}

func newGinContext(t *testing.T) *gin.Context {
	t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/", nil)
	return c
}
