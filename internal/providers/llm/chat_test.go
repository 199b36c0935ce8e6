package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

func TestChat(t *testing.T) {
	const chunks = 5
	eachProvider(t, llmmock.Options{ChunkCount: chunks}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		streamModes(t, func(t *testing.T, stream bool) {
			mock.Reset()
			var got collector

			resp, err := Chat(t.Context(), pc.config(mock.URL), pc.secret, testMessages(), got.callback(stream))
			require.NoError(t, err)

			want := llmmock.Answer(userPrompt)
			require.Equal(t, want, resp.Text)
			if stream {
				require.Len(t, got.tokens, chunks)
				require.Equal(t, resp.Text, strings.Join(got.tokens, ""))
			}
			// Azure streams carry no usage; Mistral's carry it on the last chunk unasked,
			// which the mock (OpenAI's dialect) does not imitate.
			if !(stream && (pc.provider == providerAzure || pc.provider == providerMistral)) {
				require.Equal(t, Usage{
					PromptTokens:     llmmock.CountTokens("You are terse. " + userPrompt),
					CompletionTokens: llmmock.CountTokens(want),
				}, resp.Usage)
			}

			reqs := mock.Requests()
			require.Len(t, reqs, 1)
			req := reqs[0]
			if stream && pc.streamPath != "" {
				require.Equal(t, pc.streamPath, req.Path)
			} else {
				require.Equal(t, pc.path, req.Path)
			}
			require.Equal(t, "test-model", req.Model)
			require.NotNil(t, req.Temperature)
			require.InDelta(t, 0.25, *req.Temperature, 1e-9)
			require.Equal(t, 64, req.MaxTokens)
			require.Equal(t, stream, req.Stream)
			require.Equal(t, pc.authValue, req.Headers.Get(pc.authHeader))
			require.Equal(t, []llmmock.Message{
				{Role: "system", Content: "You are terse."},
				{Role: "user", Content: userPrompt},
			}, req.Messages)
		})
	})
}

func TestChatAzureRequest(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	pc := providerCases()[1]
	require.Equal(t, providerAzure, pc.provider)
	t.Setenv("OPENAI_API_KEY", "sk-must-not-reach-azure")

	_, err := Chat(t.Context(), pc.config(mock.URL), pc.secret, testMessages(), nil)
	require.NoError(t, err)

	req := mock.Requests()[0]
	require.Equal(t, "2024-06-01", req.Query.Get("api-version"))
	require.Empty(t, req.Headers.Get("Authorization"))
}

func TestChatErrorClassification(t *testing.T) {
	statuses := []struct {
		status    int
		retryable bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusRequestTimeout, true},
		{http.StatusConflict, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusServiceUnavailable, true},
	}
	eachProvider(t, llmmock.Options{}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		streamModes(t, func(t *testing.T, stream bool) {
			for _, tc := range statuses {
				t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
					mock.Reset()
					mock.FailNext(1, tc.status)
					var got collector

					_, err := Chat(t.Context(), pc.config(mock.URL), pc.secret, testMessages(), got.callback(stream))

					var pe *ProviderError
					require.ErrorAs(t, err, &pe)
					require.Equal(t, pc.provider, pe.Provider)
					require.Equal(t, tc.status, pe.StatusCode)
					require.Equal(t, tc.retryable, pe.Retryable)
					require.Contains(t, err.Error(), "mock failure", "provider message is kept")
					requireNoSecret(t, pc.secret, err.Error())
					require.Empty(t, got.tokens)
					require.Equal(t, 1, mock.Calls(), "SDK retries must be off")
				})
			}
		})
	})
}

func TestChatServerDown(t *testing.T) {
	down := closedURL(t)
	for _, pc := range providerCases() {
		t.Run(pc.provider, func(t *testing.T) {
			cfg := pc.config(down)

			_, err := Chat(t.Context(), cfg, pc.secret, testMessages(), nil)

			var pe *ProviderError
			require.ErrorAs(t, err, &pe)
			require.True(t, pe.Retryable)
			require.Zero(t, pe.StatusCode)
			requireNoSecret(t, pc.secret, err.Error())
		})
	}
}

func TestChatCallerDeadline(t *testing.T) {
	eachProvider(t, llmmock.Options{Delay: time.Minute}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		streamModes(t, func(t *testing.T, stream bool) {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			var got collector
			start := time.Now()

			_, err := Chat(ctx, pc.config(mock.URL), pc.secret, testMessages(), got.callback(stream))

			require.Less(t, time.Since(start), 10*time.Second, "must return promptly")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var pe *ProviderError
			require.False(t, errors.As(err, &pe), "a caller deadline is not a provider failure")
		})
	})
}

func TestChatConfigTimeout(t *testing.T) {
	eachProvider(t, llmmock.Options{Delay: time.Minute}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		streamModes(t, func(t *testing.T, stream bool) {
			cfg := pc.config(mock.URL)
			cfg.Timeout = 100 * time.Millisecond
			var got collector
			start := time.Now()

			_, err := Chat(t.Context(), cfg, pc.secret, testMessages(), got.callback(stream))

			require.Less(t, time.Since(start), 10*time.Second, "must return promptly")
			var pe *ProviderError
			require.ErrorAs(t, err, &pe)
			require.True(t, pe.Retryable, "a per-call timeout is worth retrying")
			require.ErrorContains(t, err, "timed out after 100ms")
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	})
}

func TestChatMissingCredential(t *testing.T) {
	required := map[string][]string{
		providerOpenAI:    {"openAIApiKey"},
		providerAzure:     {"azureOpenAIApiKey", "azureOpenAIApiDeploymentName", "azureOpenAIApiVersion"},
		providerAnthropic: {"anthropicApiKey"},
		providerGemini:    {"googleGenerativeAPIKey"},
		providerMistral:   {"mistralAIAPIKey"},
	}
	eachProvider(t, llmmock.Options{}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		for _, field := range required[pc.provider] {
			t.Run(field, func(t *testing.T) {
				secret := Secret{}
				for k, v := range pc.secret {
					if k != field {
						secret[k] = v
					}
				}

				_, err := Chat(t.Context(), pc.config(mock.URL), secret, testMessages(), nil)

				var pe *ProviderError
				require.ErrorAs(t, err, &pe)
				require.False(t, pe.Retryable)
				require.Contains(t, err.Error(), field)
				requireNoSecret(t, pc.secret, err.Error())
				require.Zero(t, mock.Calls())
			})
		}
	})
}

func TestChatAzureNeedsInstanceWithoutBasePath(t *testing.T) {
	t.Setenv(azureBasePathEnv, "")
	pc := providerCases()[1]
	cfg := pc.config("")
	cfg.BaseURL = ""
	secret := Secret{}
	for k, v := range pc.secret {
		if k != "azureOpenAIApiInstanceName" {
			secret[k] = v
		}
	}

	_, err := Chat(t.Context(), cfg, secret, testMessages(), nil)

	var pe *ProviderError
	require.ErrorAs(t, err, &pe)
	require.False(t, pe.Retryable)
	require.Contains(t, err.Error(), "azureOpenAIApiInstanceName")
}

// TestChatRedactsEchoedKey covers providers that quote the credential they
// rejected in the error body.
func TestChatRedactsEchoedKey(t *testing.T) {
	eachProvider(t, llmmock.Options{}, func(t *testing.T, pc providerCase, _ *llmmock.Server) {
		key := pc.secret[map[string]string{
			providerOpenAI:    "openAIApiKey",
			providerAzure:     "azureOpenAIApiKey",
			providerAnthropic: "anthropicApiKey",
			providerOllama:    "ollamaApiKey",
			providerGemini:    "googleGenerativeAPIKey",
			providerMistral:   "mistralAIAPIKey",
		}[pc.provider]]
		echo := startEchoServer(t, key)

		_, err := Chat(t.Context(), pc.config(echo), pc.secret, testMessages(), nil)

		var pe *ProviderError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, http.StatusUnauthorized, pe.StatusCode)
		require.Contains(t, err.Error(), "[REDACTED]")
		requireNoSecret(t, pc.secret, err.Error())
	})
}

func TestChatEnvBaseURLs(t *testing.T) {
	env := map[string]func(mockURL string) (string, string){
		providerOpenAI:    func(u string) (string, string) { return "OPENAI_BASE_URL", u + "/v1" },
		providerAzure:     func(u string) (string, string) { return azureBasePathEnv, u + "/openai/deployments" },
		providerAnthropic: func(u string) (string, string) { return "ANTHROPIC_BASE_URL", u },
		providerGemini:    func(u string) (string, string) { return "GOOGLE_GENAI_BASE_URL", u },
		providerMistral:   func(u string) (string, string) { return "MISTRAL_BASE_URL", u + "/v1" },
		providerOllama: func(u string) (string, string) {
			return "OLLAMA_HOST", strings.TrimPrefix(u, "http://") // bare host:port, as users write it
		},
	}
	eachProvider(t, llmmock.Options{}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		t.Setenv(env[pc.provider](mock.URL))
		t.Setenv("OPENAI_API_KEY", "sk-env-key-must-not-win")
		cfg := pc.config(mock.URL)
		cfg.BaseURL = ""

		resp, err := Chat(t.Context(), cfg, pc.secret, testMessages(), nil)
		require.NoError(t, err)
		require.Equal(t, llmmock.Answer(userPrompt), resp.Text)
		require.Equal(t, pc.authValue, mock.Requests()[0].Headers.Get(pc.authHeader))
	})
}

func TestChatConcurrent(t *testing.T) {
	const n = 64
	eachProvider(t, llmmock.Options{ChunkCount: 3}, func(t *testing.T, pc providerCase, mock *llmmock.Server) {
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var got collector
				resp, err := Chat(t.Context(), pc.config(mock.URL), pc.secret, testMessages(), got.callback(i%2 == 0))
				if err == nil && resp.Text != llmmock.Answer(userPrompt) {
					err = fmt.Errorf("call %d: unexpected text %q", i, resp.Text)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, n, mock.Calls())
	})
}

func TestChatRejectsBadInput(t *testing.T) {
	pc := providerCases()[0]
	tests := map[string]struct {
		cfg  Config
		msgs []Message
		want string
	}{
		"unknown provider": {Config{Provider: "chatMystery", Model: "m"}, testMessages(), `"chatMystery"`},
		"no model":         {Config{Provider: providerOpenAI}, testMessages(), "model"},
		"no messages":      {Config{Provider: providerOpenAI, Model: "m"}, nil, "no messages"},
		"bad role":         {Config{Provider: providerOpenAI, Model: "m"}, []Message{{Role: "function", Content: "x"}}, `"function"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Chat(t.Context(), tc.cfg, pc.secret, tc.msgs, nil)

			var pe *ProviderError
			require.ErrorAs(t, err, &pe)
			require.False(t, pe.Retryable)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// A provider without an adapter of its own but an OpenAI-compatible API (Config.Compatible)
// is called at its address with the key from its credential field, and can call tools.
func TestChatCompatibleProvider(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cfg := Config{Provider: "chatDeepseek", Model: "deepseek-chat",
		Compatible: &Compatible{BaseURL: mock.URL + "/v1", KeyField: "deepseekApiKey", StreamUsage: true}}
	require.NoError(t, cfg.Validate())
	resp, err := Chat(t.Context(), cfg, Secret{"deepseekApiKey": "sk-deep"}, testMessages(), nil)
	require.NoError(t, err)
	require.Equal(t, llmmock.Answer(userPrompt), resp.Text)
	req := mock.Requests()[0]
	require.Equal(t, "/v1/chat/completions", req.Path)
	require.Equal(t, "Bearer sk-deep", req.Headers.Get("Authorization"))

	_, err = ChatWithTools(t.Context(), cfg, Secret{"deepseekApiKey": "sk-deep"}, testMessages(),
		[]Tool{{Name: "calculator", Description: "math", Parameters: []byte(`{"type":"object"}`)}})
	require.NoError(t, err)

	_, err = Chat(t.Context(), cfg, Secret{}, testMessages(), nil)
	require.Error(t, err, "the credential lacks the key field")
	require.Error(t, Config{Provider: "chatDeepseek", Model: "m", Compatible: &Compatible{}}.Validate(), "no address")
	require.Error(t, Config{Provider: "chatDeepseek", Model: "m"}.Validate(), "neither an adapter nor an address")
}
