package activities_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

const llmTemplate = "You are a benchmark bot. Reply to: {question}"

// chainSetup is a fixture with an LLM mock and a chatOpenAI model value produced by the real
// chatOpenAI activity, pointed at the mock.
type chainSetup struct {
	*actEnv
	mock  *llmmock.Server
	model node.Value
}

func newChainSetup(t *testing.T, modelInputs map[string]any) *chainSetup {
	t.Helper()
	f := newFixture(t)
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	n := openAINode(t, mock.URL+"/v1", f.credential(t, "cred-openai", testAPIKey))
	for k, v := range modelInputs {
		n.Data.Inputs[k] = v
	}
	model, err := f.run(t, node.Request{Node: n})
	require.NoError(t, err)
	return &chainSetup{actEnv: f, mock: mock, model: model}
}

// llmChainRequest is llm-chain.json's chain wired to the model and a prompt template.
func (s *chainSetup) llmChainRequest(t *testing.T, prompt node.Prompt, run node.Run, ending bool) node.Request {
	return node.Request{
		Node: flowNode(t, "llm-chain.json", "llmChain_0"),
		Upstream: map[string]node.Value{
			"chatOpenAI_0":     s.model,
			"promptTemplate_0": {Kind: "promptTemplate", Prompt: &prompt},
		},
		Run:    run,
		Ending: ending,
	}
}

func tokens(t *testing.T, events []stream.Event) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		require.Equal(t, "token", e.Name)
		var tok string
		require.NoError(t, json.Unmarshal(e.Data, &tok))
		out = append(out, tok)
	}
	return out
}

func TestLLMChainFormatsPromptAndCallsModelWithDecryptedKey(t *testing.T) {
	s := newChainSetup(t, nil)
	req := s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "ping"}, true)

	out, err := s.run(t, req)
	require.NoError(t, err)
	prompt := "You are a benchmark bot. Reply to: ping"
	require.Equal(t, "llmChain", out.Kind)
	require.NotNil(t, out.Text)
	require.Equal(t, llmmock.Answer(prompt), *out.Text)

	reqs := s.mock.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "Bearer "+testAPIKey, r.Headers.Get("Authorization"))
	require.Equal(t, "gpt-4o-mini", r.Model)
	require.NotNil(t, r.Temperature)
	require.InDelta(t, 0.9, *r.Temperature, 1e-9)
	require.Equal(t, []llmmock.Message{{Role: "user", Content: prompt}}, r.Messages)
}

func TestLLMChainUsesPromptValuesBeforeQuestion(t *testing.T) {
	s := newChainSetup(t, nil)
	p := node.Prompt{Template: "Tell {audience} about {topic}", Values: map[string]string{"audience": "kids"}}
	out, err := s.run(t, s.llmChainRequest(t, p, node.Run{Question: "volcanoes"}, true))
	require.NoError(t, err)
	require.Equal(t, llmmock.Answer("Tell kids about volcanoes"), *out.Text, "the single missing variable takes the question")
}

func TestLLMChainTwoMissingPromptValuesIsFlowError(t *testing.T) {
	s := newChainSetup(t, nil)
	p := node.Prompt{Template: "Compare {a} with {b} and {c}", Values: map[string]string{"b": "pears"}}
	_, err := s.run(t, s.llmChainRequest(t, p, node.Run{Question: "q"}, true))
	app := requireAppError(t, err, node.ErrFlow, true)
	require.Equal(t, "llmChain_0: Please provide Prompt Values for: a, c", app.Message(), "every missing value is named, as Flowise does")
	require.Zero(t, s.mock.Calls(), "a broken prompt never reaches the provider")
}

func TestLLMChainStreamsTokensOfEndingNode(t *testing.T) {
	s := newChainSetup(t, nil)
	sub := s.broker.Subscribe("prediction-1")
	defer sub.Close()

	req := s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "stream me", Topic: "prediction-1", Stream: true}, true)
	out, err := s.run(t, req)
	require.NoError(t, err)

	toks := tokens(t, sub.Drain())
	require.Greater(t, len(toks), 1, "the answer arrives token by token")
	require.Equal(t, *out.Text, strings.Join(toks, ""), "the streamed tokens are exactly the answer")
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: stream me"), *out.Text)
	require.True(t, s.mock.Requests()[0].Stream)
}

func TestLLMChainDoesNotStreamUnlessEndingWithTopic(t *testing.T) {
	cases := map[string]struct {
		ending      bool
		topic       string
		modelInputs map[string]any
	}{
		"not the ending node": {ending: false, topic: "t"},
		"no stream topic":     {ending: true, topic: ""},
		"streaming off":       {ending: true, topic: "t", modelInputs: map[string]any{"streaming": false}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newChainSetup(t, c.modelInputs)
			sub := s.broker.Subscribe("t")
			defer sub.Close()
			req := s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "quiet", Topic: c.topic, Stream: c.topic != ""}, c.ending)
			// A chain that is not the ending node runs only when its output feeds another node.
			req.Node.Data.Outputs = map[string]string{"output": "outputPrediction"}

			out, err := s.run(t, req)
			require.NoError(t, err)
			require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: quiet"), *out.Text)
			require.Empty(t, sub.Drain(), "no tokens are published")
			require.Len(t, s.mock.Requests(), 1)
			require.False(t, s.mock.Requests()[0].Stream)
		})
	}
}

func TestLLMChainNotEndingAndNotPredictingDoesNotCallModel(t *testing.T) {
	s := newChainSetup(t, nil)
	req := s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, false)
	out, err := s.run(t, req)
	require.NoError(t, err)
	require.Equal(t, "llmChain", out.Kind)
	require.Nil(t, out.Text)
	require.Zero(t, s.mock.Calls())
}

func TestLLMChainProviderErrors(t *testing.T) {
	t.Run("500 is retryable", func(t *testing.T) {
		s := newChainSetup(t, nil)
		s.mock.FailNext(1, http.StatusInternalServerError)
		_, err := s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, true))
		app := requireAppError(t, err, "ProviderUnavailable", false)
		require.NotContains(t, app.Error(), testAPIKey)
		require.Equal(t, 1, s.mock.Calls(), "Temporal, not the SDK, retries")

		// The next attempt succeeds.
		out, err := s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, true))
		require.NoError(t, err)
		require.NotEmpty(t, *out.Text)
	})
	t.Run("401 is not retryable", func(t *testing.T) {
		s := newChainSetup(t, nil)
		s.mock.FailNext(1, http.StatusUnauthorized)
		_, err := s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, true))
		app := requireAppError(t, err, node.ErrProvider, true)
		require.Contains(t, app.Message(), "401")
		require.NotContains(t, app.Error(), testAPIKey)
	})
}

func TestLLMChainCredentialErrors(t *testing.T) {
	t.Run("deleted after the model node ran", func(t *testing.T) {
		s := newChainSetup(t, nil)
		require.NoError(t, s.store.DeleteCredential(t.Context(), "cred-openai"))
		_, err := s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, true))
		app := requireAppError(t, err, node.ErrCredential, true)
		require.Contains(t, app.Message(), "credential cred-openai not found")
		require.Zero(t, s.mock.Calls())
	})
	t.Run("encrypted with another key", func(t *testing.T) {
		s := newChainSetup(t, nil)
		other := secrets.NewCipher(secrets.NewKey("another pass", "test"))
		enc, err := other.Encrypt(map[string]any{"openAIApiKey": testAPIKey})
		require.NoError(t, err)
		require.NoError(t, s.store.UpdateCredential(t.Context(), &models.Credential{ID: "cred-openai", Name: "rotated", EncryptedData: enc}))
		_, err = s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, true))
		app := requireAppError(t, err, node.ErrCredential, true)
		require.Contains(t, app.Message(), "cred-openai")
		require.Zero(t, s.mock.Calls())
	})
}

func TestLLMChainWithoutModelIsFlowError(t *testing.T) {
	s := newChainSetup(t, nil)
	req := s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, node.Run{Question: "q"}, true)
	delete(req.Upstream, "chatOpenAI_0")
	_, err := s.run(t, req)
	app := requireAppError(t, err, node.ErrFlow, true)
	require.Contains(t, app.Message(), "model")
}

func TestConversationChainSendsSystemHistoryAndQuestion(t *testing.T) {
	s := newChainSetup(t, nil)
	n := flowNode(t, "conversation-chain.json", "conversationChain_0")
	system := n.Input("systemMessagePrompt")
	require.NotEmpty(t, system)
	req := node.Request{
		Node: n,
		Upstream: map[string]node.Value{
			"chatOpenAI_0": s.model,
			"bufferMemory_0": {Kind: "bufferMemory", Memory: &node.Memory{
				Label: "Buffer Memory", SessionID: "s1", Messages: []node.Message{
					{Role: models.RoleUser, Content: "my name is Ada"},
					{Role: models.RoleAPI, Content: "hello Ada"},
				},
			}},
		},
		Run:    node.Run{Question: "what is my name?", SessionID: "s1"},
		Ending: true,
	}

	out, err := s.run(t, req)
	require.NoError(t, err)
	require.Equal(t, "conversationChain", out.Kind)
	require.Equal(t, llmmock.Answer("what is my name?"), *out.Text)

	reqs := s.mock.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, []llmmock.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: "my name is Ada"},
		{Role: "assistant", Content: "hello Ada"},
		{Role: "user", Content: "what is my name?"},
	}, reqs[0].Messages)
	require.Equal(t, "Bearer "+testAPIKey, reqs[0].Headers.Get("Authorization"))
}

func TestConversationChainWithChatPromptTemplate(t *testing.T) {
	s := newChainSetup(t, nil)
	n := flowNode(t, "conversation-chain.json", "conversationChain_0")
	n.Data.Inputs["chatPromptTemplate"] = "{{chatPromptTemplate_0.data.instance}}"
	req := node.Request{
		Node: n,
		Upstream: map[string]node.Value{
			"chatOpenAI_0": s.model,
			"chatPromptTemplate_0": {Kind: "chatPromptTemplate", Prompt: &node.Prompt{
				System: "You only talk about {topic}.", Human: "{input}", Values: map[string]string{"topic": "cats"},
			}},
		},
		Run:    node.Run{Question: "and dogs?"},
		Ending: true,
	}
	out, err := s.run(t, req)
	require.NoError(t, err)
	require.Equal(t, llmmock.Answer("and dogs?"), *out.Text)
	require.Equal(t, []llmmock.Message{
		{Role: "system", Content: "You only talk about cats."},
		{Role: "user", Content: "and dogs?"},
	}, s.mock.Requests()[0].Messages)
}
