package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// TestIdempotencyKeyRunsOnceWhenRetriesJoinLate: on a broker that keeps no events (SQLite, in
// one process), a retry that attaches to a run in the middle of its answer gets the whole
// answer once, at the end, never its tail alone: a Flowise stream resent with its
// Idempotency-Key, and an OpenAI stream resent as is. And the official OpenAI client's own
// retry, without a key, of a request whose connection dropped while the model worked reaches
// the first run. The model is called once for each.
func TestIdempotencyKeyRunsOnceWhenRetriesJoinLate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-late"})
	flowID := h.createFlow("chain", h.loadFlow("llm-chain.json", cred), nil)
	answerTo := func(q string) string { return llmmock.Answer("You are a benchmark bot. Reply to: " + q) }
	// The model streams its answer in pieces, pausing between them.
	h.mock.SetChunkDelay(400 * time.Millisecond)

	// A Flowise stream, resent with its Idempotency-Key once the first has had a token.
	post := func() *http.Response {
		req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, strings.NewReader(`{"question":"stream once","streaming":true}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "stream-42")
		req.Header.Set("Authorization", "Bearer "+h.key)
		resp, err := httpClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	calls := h.mock.Calls()
	first := post()
	defer first.Body.Close()
	r := bufio.NewReader(first.Body)
	var head strings.Builder
	for !strings.Contains(head.String(), `"event":"token"`) {
		line, err := r.ReadString('\n')
		require.NoError(t, err, "the stream so far: %s", head.String())
		head.WriteString(line)
	}
	again := post()
	raw, err := io.ReadAll(again.Body)
	require.NoError(t, err)
	require.NoError(t, again.Body.Close())
	events := parseSSE(t, raw)
	require.Equal(t, answerTo("stream once"), tokens(t, events), "the whole answer, once")
	require.Equal(t, "end", events[len(events)-1].Event)
	tail, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, answerTo("stream once"), tokens(t, parseSSE(t, []byte(head.String()+string(tail)))))
	require.Equal(t, calls+1, h.mock.Calls(), "one run, one model call")

	// An OpenAI stream sent again as it is (no key) once the first has had a token.
	client := h.openAIClient(h.key)
	params := openai.ChatCompletionNewParams{Model: flowID, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream again")}}
	calls = h.mock.Calls()
	s := client.Chat.Completions.NewStreaming(ctx, params)
	var firstAcc openai.ChatCompletionAccumulator
	for firstAcc.Choices == nil || firstAcc.Choices[0].Message.Content == "" {
		require.True(t, s.Next(), "the first stream has a token: %v", s.Err())
		require.True(t, firstAcc.AddChunk(s.Current()))
	}
	resent := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	for resent.Next() {
		require.True(t, acc.AddChunk(resent.Current()))
	}
	require.NoError(t, resent.Err())
	require.NoError(t, resent.Close())
	require.Equal(t, answerTo("stream again"), acc.Choices[0].Message.Content, "the whole answer, once")
	require.Equal(t, "stop", acc.Choices[0].FinishReason)
	for s.Next() {
		require.True(t, firstAcc.AddChunk(s.Current()))
	}
	require.NoError(t, s.Err())
	require.NoError(t, s.Close())
	require.Equal(t, answerTo("stream again"), firstAcc.Choices[0].Message.Content)
	require.Equal(t, firstAcc.ID, acc.ID, "the first run's completion")
	require.Equal(t, firstAcc.Created, acc.Created, "dated by the run")
	require.Equal(t, calls+1, h.mock.Calls(), "one run, one model call")

	// The client's own retry. The first attempt's connection drops while the model works, as a
	// proxy's might; the client sends the request again by itself, with no Idempotency-Key.
	h.mock.SetChunkDelay(0)
	h.mock.SetDelay(2 * time.Second)
	calls = h.mock.Calls()
	var attempts atomic.Int32
	drop := option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		if attempts.Add(1) > 1 {
			return next(req)
		}
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		go func() {
			defer cancel()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for h.mock.Calls() == calls {
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		}()
		if res, err := next(req.WithContext(ctx)); err == nil {
			_ = res.Body.Close()
		}
		return nil, errors.New("connection reset by peer")
	})
	retrying := openai.NewClient(option.WithBaseURL(h.base+"/v1/"), option.WithAPIKey(h.key), option.WithMaxRetries(2), drop)
	params.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("retry me")}
	done, err := retrying.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	require.Equal(t, answerTo("retry me"), done.Choices[0].Message.Content)
	require.Equal(t, int32(2), attempts.Load(), "the client retried once")
	require.Equal(t, calls+1, h.mock.Calls(), "its retry reached the first run")
}
