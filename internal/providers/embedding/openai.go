package embedding

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func (c *Client) openAI(ctx context.Context, texts []string) ([][]float32, error) {
	opts := []option.RequestOption{
		option.WithHTTPClient(c.http),
		option.WithMaxRetries(0), // the caller retries
		option.WithAPIKey(c.cfg.APIKey),
	}
	switch {
	case c.cfg.Provider == Azure:
		opts = append(opts, option.WithBaseURL(strings.TrimRight(c.cfg.BaseURL, "/")+"/"+c.cfg.Deployment+"/"),
			option.WithQuery("api-version", c.cfg.APIVersion), option.WithHeader("api-key", c.cfg.APIKey))
	case c.cfg.BaseURL != "":
		opts = append(opts, option.WithBaseURL(c.cfg.BaseURL))
	}
	client := openai.NewClient(opts...)
	params := openai.EmbeddingNewParams{
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts},
		Model: openai.EmbeddingModel(c.cfg.Model),
	}
	if c.cfg.Provider != Mistral { // Mistral refuses fields it does not know
		params.EncodingFormat = openai.EmbeddingNewParamsEncodingFormatFloat
	}
	if c.cfg.Dimensions > 0 {
		params.Dimensions = openai.Int(int64(c.cfg.Dimensions))
	}
	resp, err := client.Embeddings.New(ctx, params)
	if err != nil {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) {
			return nil, providerError(c.cfg.Provider, apiErr.StatusCode, fmt.Errorf("status %d: %s", apiErr.StatusCode, c.redact(apiErr.Message)))
		}
		return nil, providerError(c.cfg.Provider, 0, c.redactErr(err))
	}
	out := make([][]float32, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || int(d.Index) >= len(out) {
			return nil, providerError(c.cfg.Provider, 0, fmt.Errorf("embedding index %d out of range", d.Index))
		}
		out[d.Index] = toFloat32(d.Embedding)
	}
	for i, v := range out {
		if v == nil {
			return nil, providerError(c.cfg.Provider, 0, fmt.Errorf("no embedding for input %d", i))
		}
	}
	return out, nil
}

// redact keeps the API key out of messages an SDK may echo.
func (c *Client) redact(msg string) string {
	if c.cfg.APIKey == "" {
		return msg
	}
	return strings.ReplaceAll(msg, c.cfg.APIKey, "[redacted]")
}

// redactErr keeps err's chain (deadlines, network errors) while hiding the key in its text.
func (c *Client) redactErr(err error) error {
	if c.cfg.APIKey == "" || !strings.Contains(err.Error(), c.cfg.APIKey) {
		return err
	}
	return &redactedError{msg: c.redact(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
