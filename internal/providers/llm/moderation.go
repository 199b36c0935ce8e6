package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultOpenAIBase is OpenAI's API root, for calls whose node names no other.
const DefaultOpenAIBase = "https://api.openai.com/v1"

// Moderate asks OpenAI's moderation endpoint (POST <base>/moderations) whether input
// violates its content policy, as LangChain's OpenAIModerationChain does for Flowise.
func Moderate(ctx context.Context, baseURL, apiKey, input string) (flagged bool, err error) {
	if apiKey == "" {
		return false, &ProviderError{Provider: "openai", Err: fmt.Errorf("%w: OpenAI API key not found", errConfig)}
	}
	body, _ := json.Marshal(map[string]string{"input": input})
	url := strings.TrimRight(baseURL, "/") + "/moderations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, classify("openai", nil, fmt.Errorf("%w: %v", errConfig, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := httpClient.Do(req)
	if err != nil {
		return false, classify("openai", Secret{"openAIApiKey": apiKey}, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, classify("openai", nil, err)
	}
	if resp.StatusCode/100 != 2 {
		return false, classify("openai", Secret{"openAIApiKey": apiKey}, &statusError{status: resp.StatusCode,
			err: fmt.Errorf("moderation answered %d: %s", resp.StatusCode, bytes.TrimSpace(raw))})
	}
	var out struct {
		Results []struct {
			Flagged bool `json:"flagged"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Results) == 0 {
		return false, classify("openai", nil, fmt.Errorf("moderation answer is unreadable: %s", raw))
	}
	return out.Results[0].Flagged, nil
}
