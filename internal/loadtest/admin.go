package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Admin calls a Flowise-compatible server's management routes, to set a benchmark up.
type Admin struct {
	Base   string // server root, e.g. http://127.0.0.1:3000
	Key    string // API key for management routes
	Client *http.Client
}

func (a Admin) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.Base, "/")+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a.Key != "" {
		req.Header.Set("Authorization", "Bearer "+a.Key)
	}
	client := a.Client
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, truncate(raw, 300))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, truncate(raw, 300), err)
		}
	}
	return nil
}

// SetUpLLMChain stores an OpenAI credential and the benchmark flow pointed at modelURL, checks
// that one prediction answers, and returns the chatflow's id.
func (a Admin) SetUpLLMChain(ctx context.Context, modelURL string) (string, error) {
	var cred struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, http.MethodPost, "/api/v1/credentials", map[string]any{
		"name": "bench-openai", "credentialName": "openAIApi", "plainDataObj": map[string]any{"openAIApiKey": "sk-bench"},
	}, &cred); err != nil {
		return "", fmt.Errorf("create the benchmark credential: %w", err)
	}
	flowData, err := LLMChainFlow(modelURL, cred.ID)
	if err != nil {
		return "", err
	}
	var flow struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, http.MethodPost, "/api/v1/chatflows", map[string]any{"name": "bench llm-chain", "flowData": flowData}, &flow); err != nil {
		return "", fmt.Errorf("create the benchmark chatflow: %w", err)
	}
	var answer struct {
		Text string `json:"text"`
	}
	if err := a.call(ctx, http.MethodPost, "/api/v1/prediction/"+flow.ID, map[string]any{"question": "are you there?"}, &answer); err != nil {
		return "", fmt.Errorf("first prediction of the benchmark chatflow: %w", err)
	}
	if answer.Text == "" {
		return "", fmt.Errorf("the first prediction of chatflow %s answered no text", flow.ID)
	}
	return flow.ID, nil
}
