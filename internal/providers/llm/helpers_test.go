package llm

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// providerCase describes how to point one provider at the mock and what its
// requests must carry.
type providerCase struct {
	provider   string
	secret     Secret
	authHeader string
	authValue  string
	path       string // request path the mock must see
	streamPath string // the path of streamed requests, when it differs
	baseURL    func(mockURL string) string
}

const userPrompt = "hello there, mock"

func providerCases() []providerCase {
	same := func(u string) string { return u }
	return []providerCase{
		{
			provider:   providerOpenAI,
			secret:     Secret{"openAIApiKey": "sk-openai-test-key"},
			authHeader: "Authorization", authValue: "Bearer sk-openai-test-key",
			path:    "/v1/chat/completions",
			baseURL: func(u string) string { return u + "/v1" },
		},
		{
			provider: providerAzure,
			secret: Secret{
				"azureOpenAIApiKey":            "azure-test-key-123",
				"azureOpenAIApiInstanceName":   "unused-instance",
				"azureOpenAIApiDeploymentName": "gpt4o-deploy",
				"azureOpenAIApiVersion":        "2024-06-01",
			},
			authHeader: "Api-Key", authValue: "azure-test-key-123",
			path:    "/openai/deployments/gpt4o-deploy/chat/completions",
			baseURL: func(u string) string { return u + "/openai/deployments" },
		},
		{
			provider:   providerAnthropic,
			secret:     Secret{"anthropicApiKey": "sk-ant-test-key"},
			authHeader: "X-Api-Key", authValue: "sk-ant-test-key",
			path:    "/v1/messages",
			baseURL: same,
		},
		{
			provider:   providerOllama,
			secret:     Secret{"ollamaApiKey": "ollama-test-key"},
			authHeader: "Authorization", authValue: "Bearer ollama-test-key",
			path:    "/api/chat",
			baseURL: same,
		},
		{
			provider:   providerMistral,
			secret:     Secret{"mistralAIAPIKey": "mistral-test-key"},
			authHeader: "Authorization", authValue: "Bearer mistral-test-key",
			path:    "/v1/chat/completions",
			baseURL: func(u string) string { return u + "/v1" },
		},
		{
			provider:   providerGemini,
			secret:     Secret{"googleGenerativeAPIKey": "gemini-test-key"},
			authHeader: "X-Goog-Api-Key", authValue: "gemini-test-key",
			path:       "/v1beta/models/test-model:generateContent",
			streamPath: "/v1beta/models/test-model:streamGenerateContent",
			baseURL:    same,
		},
	}
}

func (pc providerCase) config(mockURL string) Config {
	temp := 0.25
	return Config{
		Provider:    pc.provider,
		Model:       "test-model",
		Temperature: &temp,
		MaxTokens:   64,
		BaseURL:     pc.baseURL(mockURL),
	}
}

func testMessages() []Message {
	return []Message{
		{Role: RoleSystem, Content: "You are terse."},
		{Role: RoleUser, Content: userPrompt},
	}
}

// eachProvider runs fn as a subtest per provider, each with a fresh mock.
func eachProvider(t *testing.T, opts llmmock.Options, fn func(t *testing.T, pc providerCase, mock *llmmock.Server)) {
	for _, pc := range providerCases() {
		t.Run(pc.provider, func(t *testing.T) {
			fn(t, pc, llmmock.NewTestServer(t, opts))
		})
	}
}

// streamModes runs fn once without and once with an onToken callback.
func streamModes(t *testing.T, fn func(t *testing.T, stream bool)) {
	for _, stream := range []bool{false, true} {
		name := "plain"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) { fn(t, stream) })
	}
}

// collector records the deltas passed to onToken.
type collector struct{ tokens []string }

func (c *collector) onToken(s string) { c.tokens = append(c.tokens, s) }

// callback returns the onToken to use: nil when not streaming.
func (c *collector) callback(stream bool) func(string) {
	if !stream {
		return nil
	}
	return c.onToken
}

// closedURL returns a URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

// requireNoSecret fails if any secret value leaked into msg.
func requireNoSecret(t *testing.T, secret Secret, msg string) {
	t.Helper()
	for name, value := range secret {
		if isCredentialField(name) {
			require.False(t, strings.Contains(msg, value), "error message leaks %s: %s", name, msg)
		}
	}
}

func ptr[T any](v T) *T { return &v }
