package llm

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProviders(t *testing.T) {
	require.Equal(t, []string{"azureChatOpenAI", "chatAnthropic", "chatGoogleGenerativeAI", "chatMistralAI", "chatOllama", "chatOpenAI", "groqChat"}, Providers())
}

func TestConfigValidate(t *testing.T) {
	valid := Config{Provider: providerOpenAI, Model: "gpt-4o-mini"}
	tests := map[string]struct {
		mutate func(*Config)
		want   string // empty: valid
	}{
		"valid":               {func(*Config) {}, ""},
		"azure without model": {func(c *Config) { c.Provider, c.Model = providerAzure, "" }, ""},
		"unknown provider":    {func(c *Config) { c.Provider = "chatGemini" }, `unknown chat model provider "chatGemini"`},
		"empty model":         {func(c *Config) { c.Model = " " }, "model name is required"},
		"negative temp":       {func(c *Config) { c.Temperature = ptr(-0.1) }, "temperature"},
		"topP above one":      {func(c *Config) { c.TopP = ptr(1.5) }, "topP"},
		"negative maxTokens":  {func(c *Config) { c.MaxTokens = -1 }, "maxTokens"},
		"negative timeout":    {func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		"relative base URL":   {func(c *Config) { c.BaseURL = "localhost:8080/v1" }, "base URL"},
		"ftp base URL":        {func(c *Config) { c.BaseURL = "ftp://example.com" }, "base URL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := valid
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.ErrorIs(t, err, errConfig)
		})
	}
}

func TestAzureBasePath(t *testing.T) {
	secret := Secret{"azureOpenAIApiInstanceName": "contoso"}

	t.Run("configured wins", func(t *testing.T) {
		t.Setenv(azureBasePathEnv, "https://env.example.com/openai/deployments")
		got, err := azureBasePath("https://node.example.com/openai/deployments/", secret)
		require.NoError(t, err)
		require.Equal(t, "https://node.example.com/openai/deployments", got)
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(azureBasePathEnv, "https://westeurope.api.cognitive.microsoft.com/openai/deployments")
		got, err := azureBasePath("", secret)
		require.NoError(t, err)
		require.Equal(t, "https://westeurope.api.cognitive.microsoft.com/openai/deployments", got)
	})
	t.Run("instance", func(t *testing.T) {
		t.Setenv(azureBasePathEnv, "")
		got, err := azureBasePath("", secret)
		require.NoError(t, err)
		require.Equal(t, "https://contoso.openai.azure.com/openai/deployments", got)
	})
	t.Run("bad environment", func(t *testing.T) {
		t.Setenv(azureBasePathEnv, "not a url")
		_, err := azureBasePath("", secret)
		require.ErrorIs(t, err, errConfig)
		require.ErrorContains(t, err, azureBasePathEnv)
	})
}

func TestParseOllamaHost(t *testing.T) {
	tests := map[string]string{
		"localhost":                "http://localhost:11434",
		"0.0.0.0:8080":             "http://0.0.0.0:8080",
		"ollama.internal":          "http://ollama.internal:11434",
		"https://ollama.example":   "https://ollama.example",
		"http://10.0.0.5:11434/":   "http://10.0.0.5:11434",
		"http://gpu-box:9000/base": "http://gpu-box:9000/base",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			got, err := parseOllamaHost(in)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
	_, err := parseOllamaHost("ftp://x")
	require.Error(t, err)
}

func TestOpenAIMaxTokensParameter(t *testing.T) {
	for model, reasoning := range map[string]bool{
		"gpt-4o": false, "gpt-4.1-mini": false, "o1": true, "o3-mini": true, "gpt-5-nano": true, "omni-moderation": false,
	} {
		p := openAIParams(Config{Model: model, MaxTokens: 100}, testMessages())
		require.Equal(t, reasoning, p.MaxCompletionTokens.Valid(), model)
		require.Equal(t, !reasoning, p.MaxTokens.Valid(), model)
	}
}

func TestClassify(t *testing.T) {
	upstream := errors.New("upstream said no")
	for status, retryable := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 422: false,
		408: true, 409: true, 429: true, 500: true, 502: true, 529: true,
	} {
		pe := classify("p", nil, &statusError{status: status, err: upstream})
		require.Equal(t, retryable, pe.Retryable, status)
		require.Equal(t, status, pe.StatusCode)
	}

	pe := classify("p", nil, upstream)
	require.True(t, pe.Retryable, "failures without a status (network, truncation) are transient")
	pe = classify("p", nil, fmt.Errorf("%w: bad", errConfig))
	require.False(t, pe.Retryable)
}
