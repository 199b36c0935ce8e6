package llmmock

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// readOK reads a response that must have succeeded.
func readOK(t *testing.T, resp *http.Response) string {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	return string(raw)
}

// TestToolCallAnswers checks that every dialect calls an offered tool in its own format.
func TestToolCallAnswers(t *testing.T) {
	const ask = `"call add with {\"a\": 1}"`
	tests := map[string]struct {
		path, body string
		want       []string
	}{
		"openai": {
			"/v1/chat/completions",
			`{"model":"m","tools":[{"type":"function","function":{"name":"add"}}],"messages":[{"role":"user","content":` + ask + `}]}`,
			[]string{`"tool_calls":[{"id":"call_mock1","type":"function","function":{"name":"add","arguments":"{\"a\":1}"}}]`, `"finish_reason":"tool_calls"`},
		},
		"anthropic": {
			"/v1/messages",
			`{"model":"m","max_tokens":9,"tools":[{"name":"add","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":` + ask + `}]}`,
			[]string{`"content":[{"type":"tool_use","id":"toolu_mock1","name":"add","input":{"a":1}}]`, `"stop_reason":"tool_use"`},
		},
		"gemini": {
			"/v1beta/models/g:generateContent",
			`{"tools":[{"functionDeclarations":[{"name":"add"}]}],"contents":[{"role":"user","parts":[{"text":` + ask + `}]}]}`,
			[]string{`"parts":[{"functionCall":{"name":"add","args":{"a":1}}}]`, `"finishReason":"STOP"`},
		},
		"ollama": {
			"/api/chat",
			`{"model":"m","stream":false,"tools":[{"type":"function","function":{"name":"add"}}],"messages":[{"role":"user","content":` + ask + `}]}`,
			[]string{`"tool_calls":[{"function":{"name":"add","arguments":{"a":1}}}]`, `"done":true`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := NewTestServer(t, Options{})

			raw := readOK(t, post(t, s.URL+tc.path, tc.body))

			for _, want := range tc.want {
				require.Contains(t, raw, want)
			}
			require.Equal(t, []string{"add"}, s.Requests()[0].Tools)
		})
	}
}

// TestToolResultsParse checks that every dialect's tool calls and results are recorded
// alike, and that the mock answers the last result.
func TestToolResultsParse(t *testing.T) {
	call := ToolCall{ID: "c1", Name: "add", Arguments: `{"a":1}`}
	tests := map[string]struct {
		path, body string
		want       []Message
	}{
		"openai": {
			"/v1/chat/completions",
			`{"model":"m","messages":[{"role":"user","content":"go"},
				{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"add","arguments":"{\"a\": 1}"}}]},
				{"role":"tool","tool_call_id":"c1","content":"42"}]}`,
			[]Message{{Role: "user", Content: "go"}, {Role: "assistant", ToolCalls: []ToolCall{call}}, {Role: "tool", Content: "42", ToolCallID: "c1"}},
		},
		"anthropic: results of one step in one message": {
			"/v1/messages",
			`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"go"},
				{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"add","input":{"a": 1}},{"type":"tool_use","id":"c2","name":"add","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"c2","content":"7"},
					{"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"4"},{"type":"text","text":"2"}]}]}]}`,
			[]Message{
				{Role: "user", Content: "go"},
				{Role: "assistant", ToolCalls: []ToolCall{call, {ID: "c2", Name: "add", Arguments: "{}"}}},
				{Role: "tool", Content: "7", ToolCallID: "c2"},
				{Role: "tool", Content: "42", ToolCallID: "c1"},
			},
		},
		"gemini": {
			"/v1beta/models/g:generateContent",
			`{"contents":[{"role":"user","parts":[{"text":"go"}]},
				{"role":"model","parts":[{"functionCall":{"name":"add","args":{"a": 1}},"thoughtSignature":"x"}]},
				{"role":"user","parts":[{"functionResponse":{"name":"add","response":{"content":"42"}}}]}]}`,
			[]Message{{Role: "user", Content: "go"}, {Role: "assistant", ToolCalls: []ToolCall{{Name: "add", Arguments: `{"a":1}`}}}, {Role: "tool", Content: "42", ToolName: "add"}},
		},
		"ollama": {
			"/api/chat",
			`{"model":"m","stream":false,"messages":[{"role":"user","content":"go"},
				{"role":"assistant","content":"","tool_calls":[{"function":{"name":"add","arguments":{"a": 1}}}]},
				{"role":"tool","content":"42","tool_name":"add"}]}`,
			[]Message{{Role: "user", Content: "go"}, {Role: "assistant", ToolCalls: []ToolCall{{Name: "add", Arguments: `{"a":1}`}}}, {Role: "tool", Content: "42", ToolName: "add"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := NewTestServer(t, Options{})

			raw := readOK(t, post(t, s.URL+tc.path, tc.body))

			require.Equal(t, tc.want, s.Requests()[0].Messages)
			require.Contains(t, raw, ToolAnswer(tc.want[len(tc.want)-1].Content))
		})
	}
}

func TestWantedTool(t *testing.T) {
	ask := func(text string) []Message { return []Message{{Role: "user", Content: text}} }

	require.Equal(t, &ToolCall{Name: "add", Arguments: `{"a":[1,2]}`}, wantedTool(ask(`please call add with {"a": [1, 2]}`), []string{"add"}))
	require.Nil(t, wantedTool(ask(`call add with {"a": 1}`), nil), "no tools offered")
	require.Nil(t, wantedTool(ask(`call mul with {"a": 1}`), []string{"add"}), "tool not offered")
	require.Nil(t, wantedTool(ask(`call add with {a: 1}`), []string{"add"}), "arguments are not JSON")
	require.Nil(t, wantedTool(append(ask(`call add with {}`), Message{Role: "tool", Content: "1"}), []string{"add"}), "answers a result")

	// Chained requests: one per turn, then the answer.
	chained := ask(`call add with {"a":1} then call mul with {"b":2}`)
	tools := []string{"add", "mul"}
	require.Equal(t, &ToolCall{Name: "add", Arguments: `{"a":1}`}, wantedTool(chained, tools))
	chained = append(chained, Message{Role: "assistant", ToolCalls: []ToolCall{{Name: "add"}}}, Message{Role: "tool", Content: "1"})
	require.Equal(t, &ToolCall{Name: "mul", Arguments: `{"b":2}`}, wantedTool(chained, tools))
	chained = append(chained, Message{Role: "assistant", ToolCalls: []ToolCall{{Name: "mul"}}}, Message{Role: "tool", Content: "2"})
	require.Nil(t, wantedTool(chained, tools), "every request made: the mock answers")
}
