package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// openAIClient is the official OpenAI Go client pointed at Flowgate's /v1, with key ("" sends
// none). It does not retry, so every call is one request.
func (h *harness) openAIClient(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(h.base+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0),
		option.WithRequestTimeout(30*time.Second))
}

// requireOpenAIError checks an error the client returned: OpenAI's shape, with status and code.
func requireOpenAIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var apiErr *openai.Error
	require.True(t, errors.As(err, &apiErr), "an API error, not %v", err)
	require.Equal(t, status, apiErr.StatusCode, apiErr.RawJSON())
	require.Equal(t, code, apiErr.Code, apiErr.RawJSON())
	require.NotEmpty(t, apiErr.Message)
}

// TestOpenAIClient: the official OpenAI client, pointed at Flowgate, gets a chatflow's answer as
// a completion and as a stream, the earlier messages reaching the model as the chat's history;
// lists the chatflows it may call (without a key only the public ones); and is refused a
// key-bound chatflow without its key (401), a model that does not exist (404) and a call over
// the chatflow's rate limit (429), in OpenAI's error shape.
func TestOpenAIClient(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-openai"})
	// A chain with buffer memory: the prediction's history goes to the model.
	public := h.createFlow("support bot", h.loadFlow("conversation-chain.json", cred), map[string]any{"isPublic": true})
	private := h.createFlow("internal bot", h.loadFlow("llm-chain.json", cred), nil)
	var other struct{ ID, APIKey string }
	h.doJSON("POST", "/api/v1/apikey", map[string]any{"keyName": "other"}, 200, &other)
	bound := h.createFlow("bound bot", h.loadFlow("llm-chain.json", cred), map[string]any{"apikeyid": other.ID})

	client := h.openAIClient(h.key)
	params := openai.ChatCompletionNewParams{
		Model: public,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Answer in French."),
			openai.UserMessage("my name is Ada"),
			openai.AssistantMessage("Hello Ada"),
			openai.UserMessage("what is my name?"),
		},
	}
	done, err := client.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	want := llmmock.Answer("what is my name?")
	require.Len(t, done.Choices, 1)
	require.Equal(t, want, done.Choices[0].Message.Content)
	require.Equal(t, "assistant", string(done.Choices[0].Message.Role))
	require.Equal(t, "stop", done.Choices[0].FinishReason)
	require.Equal(t, public, done.Model)
	require.Equal(t, 1, h.mock.Calls())
	var sent []string
	for _, m := range h.mock.Requests()[0].Messages {
		sent = append(sent, m.Content)
	}
	require.Contains(t, sent, "my name is Ada", "the history reached the model")
	require.Contains(t, sent, "Hello Ada", "the history reached the model")
	require.Contains(t, sent, "what is my name?")
	require.NotContains(t, sent, "Answer in French.", "a client's system message does not change the flow's prompt")

	// A stream, with the model named by the chatflow's name.
	params.Model = "support bot"
	s := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for s.Next() {
		require.True(t, acc.AddChunk(s.Current()))
		require.Equal(t, "chat.completion.chunk", string(s.Current().Object))
		chunks++
	}
	require.NoError(t, s.Err())
	require.NoError(t, s.Close())
	require.Greater(t, chunks, 2, "the role, the tokens and the finish each come as a chunk")
	require.Equal(t, want, acc.Choices[0].Message.Content)
	require.Equal(t, "stop", acc.Choices[0].FinishReason)
	require.Equal(t, 2, h.mock.Calls())
	require.True(t, h.mock.Requests()[1].Stream, "the model streamed its answer")

	// The list: with a key, the chatflows bound to none and to it; without one, public ones only.
	ids := func(c openai.Client) []string {
		page, err := c.Models.List(ctx)
		require.NoError(t, err)
		var out []string
		for _, m := range page.Data {
			require.Equal(t, "model", string(m.Object))
			out = append(out, m.ID)
		}
		return out
	}
	require.ElementsMatch(t, []string{public, private}, ids(client))
	require.ElementsMatch(t, []string{public, private, bound}, ids(h.openAIClient(other.APIKey)))
	require.ElementsMatch(t, []string{public}, ids(h.openAIClient("")))
	// A key that does not verify counts as none, as on the prediction route.
	require.ElementsMatch(t, []string{public}, ids(h.openAIClient("not-a-key")))

	// A key-bound chatflow needs its key, as its prediction route does, by id and by name.
	ask := openai.ChatCompletionNewParams{Model: bound, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	for _, key := range []string{"", h.key, "not-a-key"} {
		stranger := h.openAIClient(key)
		_, err = stranger.Chat.Completions.New(ctx, ask)
		requireOpenAIError(t, err, http.StatusUnauthorized, "invalid_api_key")
	}
	owner := h.openAIClient(other.APIKey)
	done, err = owner.Chat.Completions.New(ctx, ask)
	require.NoError(t, err)
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: hi"), done.Choices[0].Message.Content)
	ask.Model = "bound bot"
	_, err = client.Chat.Completions.New(ctx, ask)
	requireOpenAIError(t, err, http.StatusNotFound, "model_not_found")
	// An unbound chatflow runs for a caller whose key does not verify, as its prediction does.
	ask.Model = private
	wrong := h.openAIClient("not-a-key")
	_, err = wrong.Chat.Completions.New(ctx, ask)
	require.NoError(t, err)
	// A name opens only what the caller sees listed: without a key, not a private chatflow.
	ask.Model = "internal bot"
	anonymous := h.openAIClient("")
	_, err = anonymous.Chat.Completions.New(ctx, ask)
	requireOpenAIError(t, err, http.StatusNotFound, "model_not_found")
	ask.Model = "no such flow"
	_, err = client.Chat.Completions.New(ctx, ask)
	requireOpenAIError(t, err, http.StatusNotFound, "model_not_found")
	ask.Messages = []openai.ChatCompletionMessageParamUnion{openai.AssistantMessage("hi")}
	ask.Model = public
	_, err = client.Chat.Completions.New(ctx, ask)
	requireOpenAIError(t, err, http.StatusBadRequest, "")

	// The chatflow's rate limit counts completions and predictions together.
	limited := h.createFlow("limited bot", h.loadFlow("llm-chain.json", cred), map[string]any{"apiConfig": limitConfig(true, 1, 60, "slow down")})
	ask.Model = limited
	ask.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}
	_, err = client.Chat.Completions.New(ctx, ask)
	require.NoError(t, err)
	_, err = client.Chat.Completions.New(ctx, ask)
	requireOpenAIError(t, err, http.StatusTooManyRequests, "rate_limit_exceeded")
	var refused *openai.Error
	require.True(t, errors.As(err, &refused))
	require.Equal(t, "slow down", refused.Message, "the flow's limitMsg")
	status, body := h.do("POST", "/api/v1/prediction/"+limited, map[string]any{"question": "hi"})
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "slow down", string(body), "Flowise's answer on its own route")

	// An Idempotency-Key makes a retried completion the first one's answer, not a second run.
	calls := h.mock.Calls()
	ask.Model = public
	ask.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("once only")}
	first, err := client.Chat.Completions.New(ctx, ask, option.WithHeader("Idempotency-Key", "openai-retry-1"))
	require.NoError(t, err)
	again, err := client.Chat.Completions.New(ctx, ask, option.WithHeader("Idempotency-Key", "openai-retry-1"))
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID, "the same run answered")
	require.Equal(t, first.Choices[0].Message.Content, again.Choices[0].Message.Content)
	require.Equal(t, calls+1, h.mock.Calls(), "the model was called once")
}
