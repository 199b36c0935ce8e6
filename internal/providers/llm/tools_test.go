package llm

import (
	"encoding/json"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// addTool carries the JSON-schema keywords zod emits, which Gemini must not receive.
var addTool = Tool{
	Name:        "add",
	Description: "Adds two numbers.",
	Parameters: json.RawMessage(`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",` +
		`"properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"],"additionalProperties":false}`),
}

// TestChatWithTools makes one round trip per provider: the mock calls the offered tool, the
// assistant turn and the tool's result go back in the provider's own format, and the mock
// answers with the result.
func TestChatWithTools(t *testing.T) {
	const args = `{"a":2,"b":40}`
	// How each API identifies the call when it goes back: Gemini by the function's name
	// only, and Gemini and Ollama send no call ids, so the ids are made up.
	replay := map[string]struct{ byID, byName, madeUpID bool }{
		providerOpenAI:    {byID: true},
		providerAzure:     {byID: true},
		providerAnthropic: {byID: true},
		providerMistral:   {byID: true},
		providerGemini:    {byName: true, madeUpID: true},
		providerOllama:    {byID: true, byName: true, madeUpID: true},
	}
	eachProvider(t, llmmock.Options{}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		want, ok := replay[pc.provider]
		require.True(t, ok, "no expectation for %s", pc.provider)
		msgs := []Message{
			{Role: RoleSystem, Content: "You are terse."},
			{Role: RoleUser, Content: "call add with " + args},
		}

		resp, err := ChatWithTools(t.Context(), pc.config(mock.URL), pc.secret, msgs, []Tool{addTool})
		require.NoError(t, err)
		require.Len(t, resp.ToolCalls, 1)
		call := resp.ToolCalls[0]
		require.Equal(t, "add", call.Name)
		require.JSONEq(t, args, call.Arguments)
		if want.madeUpID {
			require.Equal(t, "call_0", call.ID)
		} else {
			require.NotEmpty(t, call.ID)
		}

		msgs = append(msgs,
			Message{Role: RoleAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls},
			Message{Role: RoleTool, Content: "42", ToolCallID: call.ID})
		resp, err = ChatWithTools(t.Context(), pc.config(mock.URL), pc.secret, msgs, []Tool{addTool})
		require.NoError(t, err)
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, llmmock.ToolAnswer("42"), resp.Text)

		reqs := mock.Requests()
		require.Len(t, reqs, 2)
		require.Equal(t, []string{"add"}, reqs[0].Tools)
		require.False(t, reqs[0].Stream, "tool calls never stream")
		sentCall := llmmock.ToolCall{Name: "add", Arguments: args}
		result := llmmock.Message{Role: "tool", Content: "42"}
		if want.byID {
			sentCall.ID, result.ToolCallID = call.ID, call.ID
		}
		if want.byName {
			result.ToolName = "add"
		}
		require.Equal(t, []llmmock.Message{
			{Role: "system", Content: "You are terse."},
			{Role: "user", Content: "call add with " + args},
			{Role: "assistant", ToolCalls: []llmmock.ToolCall{sentCall}},
			result,
		}, reqs[1].Messages)
	})
}

// TestChatWithToolsRefusesProviderWithoutTools covers a provider whose tool mapping does
// not exist yet: the refusal is final and nothing is sent.
func TestChatWithToolsRefusesProviderWithoutTools(t *testing.T) {
	const provider = "chatToolless"
	providers[provider] = chatOpenAI
	t.Cleanup(func() { delete(providers, provider) })
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cfg := Config{Provider: provider, Model: "m", BaseURL: mock.URL + "/v1"}
	secret := Secret{"openAIApiKey": "sk-test"}

	_, err := ChatWithTools(t.Context(), cfg, secret, testMessages(), []Tool{addTool})

	var pe *ProviderError
	require.ErrorAs(t, err, &pe)
	require.False(t, pe.Retryable)
	require.ErrorContains(t, err, "cannot call tools")
	require.Zero(t, mock.Calls())

	resp, err := Chat(t.Context(), cfg, secret, testMessages(), nil)
	require.NoError(t, err, "plain chat still works")
	require.Equal(t, llmmock.Answer(userPrompt), resp.Text)
}

// TestChatWithToolsRejectsBadHistory covers conversations no retry can fix.
func TestChatWithToolsRejectsBadHistory(t *testing.T) {
	badArgs := []Message{
		{Role: RoleUser, Content: "go"},
		{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c1", Name: "add", Arguments: "not json"}}},
		{Role: RoleTool, Content: "42", ToolCallID: "c1"},
	}
	orphan := []Message{{Role: RoleUser, Content: "go"}, {Role: RoleTool, Content: "42", ToolCallID: "nobody"}}
	tests := map[string]struct {
		provider string
		msgs     []Message
		tools    []Tool
		want     string
	}{
		"anthropic bad arguments": {providerAnthropic, badArgs, []Tool{addTool}, "not a JSON object"},
		"gemini bad arguments":    {providerGemini, badArgs, []Tool{addTool}, "not a JSON object"},
		"ollama bad arguments":    {providerOllama, badArgs, []Tool{addTool}, "not a JSON object"},
		"gemini orphan result":    {providerGemini, orphan, []Tool{addTool}, `"nobody" answers no earlier tool call`},
		"bad schema":              {providerAnthropic, testMessages(), []Tool{{Name: "x", Parameters: json.RawMessage(`[`)}}, "not a JSON schema"},
	}
	cases := map[string]providerCase{}
	for _, pc := range providerCases() {
		cases[pc.provider] = pc
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mock := llmmock.NewTestServer(t, llmmock.Options{})
			pc := cases[tc.provider]

			_, err := ChatWithTools(t.Context(), pc.config(mock.URL), pc.secret, tc.msgs, tc.tools)

			var pe *ProviderError
			require.ErrorAs(t, err, &pe)
			require.False(t, pe.Retryable)
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, mock.Calls())
		})
	}
}

// parallelCalls is a step in which the model called two tools at once.
func parallelCalls() []Message {
	return []Message{
		{Role: RoleUser, Content: "add twice"},
		{Role: RoleAssistant, Content: "Adding.", ToolCalls: []ToolCall{
			{ID: "c1", Name: "add", Arguments: `{"a":1,"b":2}`},
			{ID: "c2", Name: "mul", Arguments: ""},
		}},
		{Role: RoleTool, Content: "3", ToolCallID: "c1"},
		{Role: RoleTool, Content: "", ToolCallID: "c2"},
		{Role: RoleUser, Content: "thanks"},
	}
}

// TestAnthropicToolTurns checks that the results of one step travel in one user message,
// which the Messages API requires, and that empty text is never sent as a block.
func TestAnthropicToolTurns(t *testing.T) {
	p, err := anthropicParams(call{cfg: Config{Model: "m"}, messages: parallelCalls(), tools: []Tool{addTool}})
	require.NoError(t, err)

	raw, err := json.Marshal(p)
	require.NoError(t, err)
	var body struct {
		Messages []anthropic.MessageParam `json:"messages"`
		Tools    []map[string]any         `json:"tools"`
	}
	require.NoError(t, json.Unmarshal(raw, &body))
	require.Len(t, body.Messages, 4)
	msgs, _ := json.Marshal(body.Messages)
	require.JSONEq(t, `[
		{"role":"user","content":[{"type":"text","text":"add twice"}]},
		{"role":"assistant","content":[
			{"type":"text","text":"Adding."},
			{"type":"tool_use","id":"c1","name":"add","input":{"a":1,"b":2}},
			{"type":"tool_use","id":"c2","name":"mul","input":{}}]},
		{"role":"user","content":[
			{"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"3"}]},
			{"type":"tool_result","tool_use_id":"c2"}]},
		{"role":"user","content":[{"type":"text","text":"thanks"}]}
	]`, string(msgs))
	require.Equal(t, "add", body.Tools[0]["name"])
	require.Equal(t, "Adds two numbers.", body.Tools[0]["description"])
	schema, _ := json.Marshal(body.Tools[0]["input_schema"])
	require.JSONEq(t, string(addTool.Parameters), string(schema), "Anthropic takes the schema as it is")
}

// TestGeminiToolTurns checks the contents Gemini gets: calls as functionCall parts of the
// "model" turn, and all results of the step in one "user" content, named by function.
func TestGeminiToolTurns(t *testing.T) {
	body, err := geminiBody(call{cfg: Config{Model: "m"}, messages: parallelCalls(), tools: []Tool{addTool}})
	require.NoError(t, err)

	raw, err := json.Marshal(body.Contents)
	require.NoError(t, err)
	require.JSONEq(t, `[
		{"role":"user","parts":[{"text":"add twice"}]},
		{"role":"model","parts":[
			{"text":"Adding."},
			{"functionCall":{"name":"add","args":{"a":1,"b":2}},"thoughtSignature":"skip_thought_signature_validator"},
			{"functionCall":{"name":"mul","args":{}},"thoughtSignature":"skip_thought_signature_validator"}]},
		{"role":"user","parts":[
			{"functionResponse":{"name":"add","response":{"content":"3"}}},
			{"functionResponse":{"name":"mul","response":{"content":""}}}]},
		{"role":"user","parts":[{"text":"thanks"}]}
	]`, string(raw))
	tools, err := json.Marshal(body.Tools)
	require.NoError(t, err)
	require.JSONEq(t, `[{"functionDeclarations":[{"name":"add","description":"Adds two numbers.",
		"parameters":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}}]}]`, string(tools))
}

func TestGeminiParameters(t *testing.T) {
	var schema map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"type":"object","additionalProperties":false,"properties":{
		"tags":{"type":"array","items":{"type":"object","additionalProperties":false,"properties":{"name":{"type":"string","$ref":"#/x"}}}},
		"mode":{"anyOf":[{"type":"string","const":"a"},{"type":"null"}]}}}`), &schema))

	got, err := json.Marshal(geminiParameters(schema))
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"object","properties":{
		"tags":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}},
		"mode":{"anyOf":[{"type":"string"},{"type":"null"}]}}}`, string(got))

	require.Nil(t, geminiParameters(map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false}),
		"Gemini refuses an object schema without properties")
}

// TestOllamaToolMessages checks that results name their function and calls keep their ids.
func TestOllamaToolMessages(t *testing.T) {
	msgs, err := ollamaMessages(parallelCalls())
	require.NoError(t, err)

	raw, err := json.Marshal(msgs)
	require.NoError(t, err)
	require.JSONEq(t, `[
		{"role":"user","content":"add twice"},
		{"role":"assistant","content":"Adding.","tool_calls":[
			{"id":"c1","function":{"name":"add","arguments":{"a":1,"b":2}}},
			{"id":"c2","function":{"name":"mul","arguments":{}}}]},
		{"role":"tool","content":"3","tool_call_id":"c1","tool_name":"add"},
		{"role":"tool","content":"","tool_call_id":"c2","tool_name":"mul"},
		{"role":"user","content":"thanks"}
	]`, string(raw))
}
