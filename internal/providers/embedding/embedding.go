// Package embedding turns texts into embedding vectors through Flowise's embedding nodes:
// openAIEmbeddings (any OpenAI-compatible /v1/embeddings) and ollamaEmbedding (/api/embed).
// Clients run with their own retries off; the caller (Temporal, or the API's request) retries.
package embedding

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Flowise node names of the supported embedding providers.
const (
	OpenAI  = "openAIEmbeddings"
	Ollama  = "ollamaEmbedding"
	Azure   = "azureOpenAIEmbeddings"
	LocalAI = "localAIEmbeddings"
	Mistral = "mistralAIEmbeddings"
	Google  = "googleGenerativeAiEmbeddings"
)

// Providers lists the embedding nodes this package runs.
var Providers = []string{OpenAI, Azure, Ollama, LocalAI, Mistral, Google}

// Flowise's defaults for the nodes' inputs.
const (
	DefaultOpenAIModel   = "text-embedding-ada-002"
	DefaultOllamaBaseURL = "http://localhost:11434"
	DefaultMistralModel  = "mistral-embed"
	DefaultMistralURL    = "https://api.mistral.ai/v1"
	DefaultGoogleModel   = "gemini-embedding-001"
	DefaultGoogleURL     = "https://generativelanguage.googleapis.com"
	// DefaultBatchSize is LangChain's OpenAIEmbeddings batchSize: texts per request.
	DefaultBatchSize = 512
	// DefaultTimeout bounds one request when Config.Timeout is zero.
	DefaultTimeout = 60 * time.Second
)

// Config selects a provider and model. APIKey is the decrypted credential value; it is never
// part of an error message.
type Config struct {
	Provider   string
	Model      string
	BaseURL    string
	APIKey     string
	Dimensions int
	BatchSize  int
	// StripNewLines replaces newlines with spaces before embedding (the node's stripNewLines).
	StripNewLines bool
	// Timeout bounds each request to the provider.
	Timeout time.Duration
	// Azure's deployment and API version (the key's instance names the default base URL).
	Instance, Deployment, APIVersion string
	// TaskType is Gemini's taskType.
	TaskType string
}

// ErrConfig marks settings no request can succeed with, so they are not retried.
var ErrConfig = errors.New("invalid embeddings configuration")

// Error is a failed provider call, classified for retries.
type Error struct {
	Provider string
	// StatusCode is the provider's HTTP status, 0 when none was received.
	StatusCode int
	Retryable  bool
	Err        error
}

func (e *Error) Error() string { return e.Provider + " embeddings: " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

func providerError(provider string, status int, err error) *Error {
	retry := true
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusConflict && status != http.StatusTooManyRequests {
		retry = false
	}
	return &Error{Provider: provider, StatusCode: status, Retryable: retry, Err: err}
}

// Client embeds texts with one configuration.
type Client struct {
	cfg  Config
	http *http.Client
}

// defaultHTTP is shared so connections to a provider are reused across calls. It has no overall
// Timeout: every call carries a deadline from Config.Timeout.
var defaultHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// New validates cfg and returns a client; hc nil uses a shared client.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if hc == nil {
		hc = defaultHTTP
	}
	switch cfg.Provider {
	case OpenAI:
		cfg.Model = cmp.Or(strings.TrimSpace(cfg.Model), DefaultOpenAIModel)
		if cfg.APIKey == "" {
			return nil, fmt.Errorf("%w: %s needs an OpenAI API key (credential field openAIApiKey)", ErrConfig, OpenAI)
		}
	case Ollama:
		cfg.BaseURL = cmp.Or(strings.TrimSpace(cfg.BaseURL), DefaultOllamaBaseURL)
		if strings.TrimSpace(cfg.Model) == "" {
			return nil, fmt.Errorf("%w: %s needs a model name", ErrConfig, Ollama)
		}
	case Azure:
		if cfg.APIKey == "" || cfg.Deployment == "" || cfg.APIVersion == "" {
			return nil, fmt.Errorf("%w: %s needs an Azure OpenAI credential with azureOpenAIApiKey, azureOpenAIApiDeploymentName and azureOpenAIApiVersion", ErrConfig, Azure)
		}
		if cfg.BaseURL == "" {
			if cfg.Instance == "" {
				return nil, fmt.Errorf("%w: %s needs azureOpenAIApiInstanceName or a base path", ErrConfig, Azure)
			}
			cfg.BaseURL = "https://" + cfg.Instance + ".openai.azure.com/openai/deployments"
		}
		cfg.Model = cfg.Deployment
	case LocalAI:
		if cfg.BaseURL == "" || strings.TrimSpace(cfg.Model) == "" {
			return nil, fmt.Errorf("%w: %s needs a base path and a model name", ErrConfig, LocalAI)
		}
	case Mistral:
		cfg.Model = cmp.Or(strings.TrimSpace(cfg.Model), DefaultMistralModel)
		cfg.BaseURL = cmp.Or(strings.TrimSpace(cfg.BaseURL), DefaultMistralURL)
		if cfg.APIKey == "" {
			return nil, fmt.Errorf("%w: %s needs a Mistral API key (credential field mistralAIAPIKey)", ErrConfig, Mistral)
		}
	case Google:
		cfg.Model = strings.TrimPrefix(cmp.Or(strings.TrimSpace(cfg.Model), DefaultGoogleModel), "models/")
		cfg.BaseURL = cmp.Or(strings.TrimSpace(cfg.BaseURL), DefaultGoogleURL)
		if cfg.APIKey == "" {
			return nil, fmt.Errorf("%w: %s needs a Google API key (credential field googleGenerativeAPIKey)", ErrConfig, Google)
		}
	default:
		return nil, fmt.Errorf("%w: embeddings %q are not supported (supported: %s)", ErrConfig, cfg.Provider, strings.Join(Providers, ", "))
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: base path %q is not an http(s) URL", ErrConfig, cfg.BaseURL)
		}
	}
	if cfg.Dimensions < 0 {
		return nil, fmt.Errorf("%w: dimensions %d is negative", ErrConfig, cfg.Dimensions)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// Model is the model the client embeds with.
func (c *Client) Model() string { return c.cfg.Model }

// EmbedDocuments returns one vector per text, in order, sending BatchSize texts per request.
func (c *Client) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += c.cfg.BatchSize {
		batch := texts[start:min(start+c.cfg.BatchSize, len(texts))]
		if c.cfg.StripNewLines {
			stripped := make([]string, len(batch))
			for i, t := range batch {
				stripped[i] = strings.ReplaceAll(t, "\n", " ")
			}
			batch = stripped
		}
		vecs, err := c.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		if len(vecs) != len(batch) {
			return nil, providerError(c.cfg.Provider, 0, fmt.Errorf("asked for %d embeddings, got %d", len(batch), len(vecs)))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// EmbedQuery returns the vector of one text.
func (c *Client) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	vecs, err := c.EmbedDocuments(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return vecs[0], nil
}

func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	switch c.cfg.Provider {
	case Ollama:
		return c.ollama(ctx, texts)
	case Google:
		return c.google(ctx, texts)
	default: // OpenAI's API: OpenAI, Azure, LocalAI, Mistral
		return c.openAI(ctx, texts)
	}
}
