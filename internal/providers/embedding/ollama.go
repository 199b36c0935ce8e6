package embedding

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxErrorText bounds the provider's text quoted in an error.
const maxErrorText = 4 << 10

// ollama calls POST /api/embed, which takes a batch of inputs.
func (c *Client) ollama(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(map[string]any{"model": c.cfg.Model, "input": texts})
	if err != nil {
		return nil, fmt.Errorf("encode ollama request: %w", err)
	}
	target, err := url.JoinPath(c.cfg.BaseURL, "api", "embed")
	if err != nil {
		return nil, providerError(Ollama, 0, fmt.Errorf("%w: base URL: %v", ErrConfig, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, providerError(Ollama, 0, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, providerError(Ollama, 0, c.redactErr(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, providerError(Ollama, 0, fmt.Errorf("read response: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		// An error page may be large; its start says enough and keeps failures small.
		if len(msg) > maxErrorText {
			msg = msg[:maxErrorText] + "…"
		}
		return nil, providerError(Ollama, resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, c.redact(msg)))
	}
	var out struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, providerError(Ollama, 0, fmt.Errorf("decode response: %w", err))
	}
	if len(out.Embeddings) != len(texts) {
		return nil, providerError(Ollama, 0, errors.New("response has a different number of embeddings than inputs"))
	}
	return out.Embeddings, nil
}
