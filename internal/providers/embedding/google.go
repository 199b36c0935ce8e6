package embedding

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// google calls Gemini's POST /v1beta/models/{model}:batchEmbedContents.
func (c *Client) google(ctx context.Context, texts []string) ([][]float32, error) {
	type part struct {
		Text string `json:"text"`
	}
	type request struct {
		Model   string `json:"model"`
		Content struct {
			Parts []part `json:"parts"`
		} `json:"content"`
		TaskType             string `json:"taskType,omitempty"`
		OutputDimensionality int    `json:"outputDimensionality,omitempty"`
	}
	reqs := make([]request, len(texts))
	for i, t := range texts {
		reqs[i].Model = "models/" + c.cfg.Model
		reqs[i].Content.Parts = []part{{Text: t}}
		if c.cfg.TaskType != "" && c.cfg.TaskType != "TASK_TYPE_UNSPECIFIED" {
			reqs[i].TaskType = c.cfg.TaskType
		}
		reqs[i].OutputDimensionality = c.cfg.Dimensions
	}
	body, err := json.Marshal(map[string]any{"requests": reqs})
	if err != nil {
		return nil, fmt.Errorf("encode gemini request: %w", err)
	}
	target := strings.TrimRight(c.cfg.BaseURL, "/") + "/v1beta/models/" + url.PathEscape(c.cfg.Model) + ":batchEmbedContents"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, providerError(Google, 0, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-goog-api-key", c.cfg.APIKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, providerError(Google, 0, c.redactErr(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, providerError(Google, 0, fmt.Errorf("read response: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(raw))
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		if len(msg) > maxErrorText {
			msg = msg[:maxErrorText] + "…"
		}
		return nil, providerError(Google, resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, c.redact(msg)))
	}
	var out struct {
		Embeddings []struct {
			Values []float32 `json:"values"`
		} `json:"embeddings"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, providerError(Google, 0, fmt.Errorf("decode response: %w", err))
	}
	vecs := make([][]float32, len(out.Embeddings))
	for i, e := range out.Embeddings {
		vecs[i] = e.Values
	}
	return vecs, nil
}
