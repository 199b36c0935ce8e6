package activities_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

const streamTopic = "prediction-agent"

// step runs one agentflow node as the worker does and returns its result and the tokens it
// published on streamTopic (its progress events left out).
func (f *actEnv) step(t *testing.T, req node.StepRequest) (node.StepResult, []string) {
	t.Helper()
	sub := f.broker.Subscribe(streamTopic)
	defer sub.Close()
	val, err := f.env.ExecuteActivity(node.ActivityName(req.Node.Kind), req)
	require.NoError(t, err)
	var res node.StepResult
	require.NoError(t, val.Get(&res))
	return res, tokensOnly(t, sub.Drain())
}

func tokensOnly(t *testing.T, events []stream.Event) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		if e.Name == node.TokenEvent {
			var tok string
			require.NoError(t, json.Unmarshal(e.Data, &tok))
			out = append(out, tok)
		}
	}
	return out
}

func streamed(question string) node.AgentflowRun {
	return node.AgentflowRun{ChatflowID: "flow-stream", ChatID: "chat", SessionID: "chat", Question: question, Topic: streamTopic, Stream: true}
}

// agentModelInputs points an LLM or Agent node (inputs named <prefix>…) at the mock.
func agentModelInputs(prefix, baseURL, credID string) map[string]any {
	return map[string]any{
		prefix + "Model": "chatOpenAI",
		prefix + "ModelConfig": map[string]any{"credential": credID, "modelName": "gpt-4o-mini", "basepath": baseURL,
			prefix + "Model": "chatOpenAI"},
	}
}

// Flowise's Tool, Custom Function and Direct Reply nodes send their whole answer as one token
// when they end a streaming run, and nothing otherwise.
func TestAgentflowEndingNodesSendTheirAnswerWhole(t *testing.T) {
	f := newFixture(t)
	nodes := map[string]agentflow.Node{
		"tool": {ID: "toolAgentflow_0", Kind: "toolAgentflow", Inputs: map[string]any{"toolAgentflowSelectedTool": "calculator",
			"toolInputArgs": []any{map[string]any{"inputArgName": "input", "inputArgValue": "6*7"}}}},
		"custom function": {ID: "customFunctionAgentflow_0", Kind: "customFunctionAgentflow",
			Inputs: map[string]any{"customFunctionJavascriptFunction": "return 'forty' + '-two';"}},
		"direct reply": {ID: "directReplyAgentflow_0", Kind: "directReplyAgentflow", Inputs: map[string]any{"directReplyMessage": "<p>Hi {{ question }}</p>"}},
	}
	want := map[string]string{"tool": "42", "custom function": "forty-two", "direct reply": "Hi there"}
	for name, n := range nodes {
		t.Run(name, func(t *testing.T) {
			res, toks := f.step(t, node.StepRequest{Node: n, Run: streamed("there"), Ending: true})
			require.Equal(t, want[name], res.Content())
			require.Equal(t, []string{want[name]}, toks)

			_, toks = f.step(t, node.StepRequest{Node: n, Run: streamed("there")})
			require.Empty(t, toks, "a node that does not end the run keeps its answer to itself")
		})
	}
}

// An LLM node with structured output answers with a JSON object, which is not streamed token
// by token (the model is asked without streaming) but sent whole; an answer that streams is
// sent as it arrives, never twice.
func TestAgentflowLLMSendsAnAnswerThatDidNotStreamWhole(t *testing.T) {
	f := newFixture(t)
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cred := f.credential(t, "cred-llm", testAPIKey)
	inputs := agentModelInputs("llm", mock.URL+"/v1", cred)
	inputs["llmStructuredOutput"] = []any{map[string]any{"key": "answer", "type": "string", "description": "the answer"}}
	structured := agentflow.Node{ID: "llmAgentflow_0", Kind: "llmAgentflow", Inputs: inputs}

	res, toks := f.step(t, node.StepRequest{Node: structured, Run: streamed("is the sky blue?"), Ending: true})
	require.Equal(t, []string{res.Content()}, toks)
	require.NotEmpty(t, res.Output["answer"])
	require.False(t, mock.Requests()[0].Stream)

	plain := agentflow.Node{ID: "llmAgentflow_1", Kind: "llmAgentflow", Inputs: agentModelInputs("llm", mock.URL+"/v1", cred)}
	res, toks = f.step(t, node.StepRequest{Node: plain, Run: streamed("hello"), Ending: true})
	require.Greater(t, len(toks), 1, "token by token")
	require.Equal(t, res.Content(), strings.Join(toks, ""))
	require.True(t, mock.Requests()[1].Stream)
}

// A fixed-text human input shows what is to be approved above its question, as Flowise does:
// the conversation's last message (this run's, else the session's), a blank line, the
// question; and sends it to the streaming request, ending node or not. Its input tells the
// widget whether to offer a feedback box.
func TestAgentflowHumanInputShowsTheDraftAboveTheQuestion(t *testing.T) {
	f := newFixture(t)
	n := agentflow.Node{ID: "humanInputAgentflow_0", Kind: "humanInputAgentflow", Inputs: map[string]any{
		"humanInputDescriptionType": "fixed", "humanInputDescription": "<p>Send it?</p>", "humanInputEnableFeedback": true}}
	run := streamed("write to Bob")
	draft := []node.Message{{Role: "user", Content: "write to Bob"}, {Role: "user", Content: "Dear Bob, ..."}}

	res, toks := f.step(t, node.StepRequest{Node: n, Run: run, ChatHistory: draft})
	require.Equal(t, "Dear Bob, ...\n\nSend it?", res.Content())
	require.Equal(t, []string{res.Content()}, toks)
	var input struct {
		Messages []node.Message `json:"messages"`
		Feedback bool           `json:"humanInputEnableFeedback"`
	}
	raw, err := json.Marshal(res.Input)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &input))
	require.True(t, input.Feedback)
	require.Equal(t, draft, input.Messages)

	// Nothing in this run yet: the session's last message is the one shown; no description:
	// Flowise's default question.
	f.saveTurns(t, run.ChatflowID, run.SessionID, 1)
	delete(n.Inputs, "humanInputDescription")
	res, toks = f.step(t, node.StepRequest{Node: n, Run: run})
	require.Equal(t, "chat answer 0\n\nDo you want to proceed?", res.Content())
	require.Equal(t, []string{res.Content()}, toks)

	run.Stream = false
	_, toks = f.step(t, node.StepRequest{Node: n, Run: run})
	require.Empty(t, toks, "a JSON request gets no tokens")
}

// A dynamic human input has its model write the question from the conversation (the
// session's, then this run's) and streams it as it is written.
func TestAgentflowDynamicHumanInputStreamsWhatItsModelWrites(t *testing.T) {
	f := newFixture(t)
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	inputs := agentModelInputs("humanInput", mock.URL+"/v1", f.credential(t, "cred-hi", testAPIKey))
	inputs["humanInputDescriptionType"] = "dynamic"
	inputs["humanInputModelPrompt"] = "<p>Ask whether to send it.</p>"
	n := agentflow.Node{ID: "humanInputAgentflow_0", Kind: "humanInputAgentflow", Inputs: inputs}
	run := streamed("write to Bob")
	f.saveTurns(t, run.ChatflowID, run.SessionID, 1)

	res, toks := f.step(t, node.StepRequest{Node: n, Run: run, ChatHistory: []node.Message{{Role: "user", Content: "Dear Bob, ..."}}})
	require.Equal(t, llmmock.Answer("Ask whether to send it."), res.Content())
	require.Greater(t, len(toks), 1, "token by token")
	require.Equal(t, res.Content(), strings.Join(toks, ""))
	require.Equal(t, []llmmock.Message{
		{Role: "user", Content: "chat question 0"},
		{Role: "assistant", Content: "chat answer 0"},
		{Role: "user", Content: "Dear Bob, ..."},
		{Role: "user", Content: "Ask whether to send it."},
	}, mock.Requests()[0].Messages)
}
