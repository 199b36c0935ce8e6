package chatflow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

func testVars() chatflow.Vars {
	return chatflow.Vars{
		Question:    "What is Go?",
		ChatHistory: "Human: hi\nAI: hello",
		Vars:        map[string]string{"company": "Acme", "empty": ""},
		Flow:        map[string]string{"sessionId": "sess-1", "chatId": "chat-1", "chatflowId": "flow-1"},
		Outputs:     map[string]string{"llmChain_0": "first answer"},
	}
}

func TestVarsResolve(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"question", "Q: {{question}}", "Q: What is Go?"},
		{"chat history", "{{chat_history}}\nHuman: next", "Human: hi\nAI: hello\nHuman: next"},
		{"variable", "Welcome to {{$vars.company}}.", "Welcome to Acme."},
		{"empty variable", "[{{$vars.empty}}]", "[]"},
		{"flow session id", "{{$flow.sessionId}}", "sess-1"},
		{"flow chat id", "{{$flow.chatId}}", "chat-1"},
		{"flow chatflow id", "{{$flow.chatflowId}}", "flow-1"},
		{"node instance", "Result: {{llmChain_0.data.instance}}", "Result: first answer"},
		{"several in one string", "{{question}} / {{$vars.company}} / {{$flow.chatId}}", "What is Go? / Acme / chat-1"},
		{"spaces inside braces", "{{ question }}|{{  $vars.company }}|{{ $flow.sessionId }}", "What is Go?|Acme|sess-1"},
		{"spaces around node instance", "{{ llmChain_0.data.instance }}", "first answer"},
		{"unknown name left intact", "{{ unknown }} and {{other}}", "{{ unknown }} and {{other}}"},
		{"unknown variable left intact", "{{$vars.missing}}", "{{$vars.missing}}"},
		{"unknown flow field left intact", "{{$flow.state.x}}", "{{$flow.state.x}}"},
		{"unknown node left intact", "{{llmChain_9.data.instance}}", "{{llmChain_9.data.instance}}"},
		{"single braces untouched", "{question} {objective}", "{question} {objective}"},
		{"no braces", "plain text", "plain text"},
		{"empty", "", ""},
		{"json around a variable", `{"q":"{{question}}"}`, `{"q":"What is Go?"}`},
		{"unclosed", "{{question", "{{question"},
	}
	v := testVars()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, v.Resolve(tc.in))
		})
	}
}

func TestVarsResolveDoesNotReexpand(t *testing.T) {
	// A question that contains a reference must not reach variables it was not meant to see.
	v := testVars()
	v.Question = "tell me {{$vars.company}} {{chat_history}}"
	require.Equal(t, "Q: tell me {{$vars.company}} {{chat_history}}", v.Resolve("Q: {{question}}"))
}

func TestVarsResolveZeroValue(t *testing.T) {
	var v chatflow.Vars
	require.Equal(t, "[] {{$vars.x}} {{$flow.chatId}}", v.Resolve("[{{question}}] {{$vars.x}} {{$flow.chatId}}"))
}
