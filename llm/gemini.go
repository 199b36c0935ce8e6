package llm

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// geminiDefaultBase is the Gemini API (Google AI Studio keys).
const geminiDefaultBase = "https://generativelanguage.googleapis.com"

// geminiRequest is the body of models/{model}:generateContent
// (https://ai.google.dev/api/generate-content).
type geminiRequest struct {
	Contents          []geminiContent  `json:"contents"`
	SystemInstruction *geminiContent   `json:"systemInstruction,omitempty"`
	GenerationConfig  geminiGeneration `json:"generationConfig,omitzero"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"` // "user" or "model"
	Parts []geminiPart `json:"parts"`
}

type geminiPart struct {
	Text string `json:"text"`
}

type geminiGeneration struct {
	Temperature     *float64 `json:"temperature,omitempty"`
	TopP            *float64 `json:"topP,omitempty"`
	MaxOutputTokens int      `json:"maxOutputTokens,omitempty"`
	StopSequences   []string `json:"stopSequences,omitempty"`
}

// geminiResponse is an answer, or one event of a stream.
type geminiResponse struct {
	Candidates []struct {
		Content geminiContent `json:"content"`
	} `json:"candidates"`
	UsageMetadata struct {
		PromptTokenCount     int `json:"promptTokenCount"`
		CandidatesTokenCount int `json:"candidatesTokenCount"`
	} `json:"usageMetadata"`
}

// text is the first candidate's text: one candidate is asked for.
func (r geminiResponse) text() string {
	if len(r.Candidates) == 0 {
		return ""
	}
	var b strings.Builder
	for _, p := range r.Candidates[0].Content.Parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// chatGemini calls Google's Gemini API over REST; GOOGLE_GENAI_BASE_URL or the node's
// baseUrl replace its address.
func chatGemini(ctx context.Context, c call) (Response, error) {
	key, err := c.secret.field("googleGenerativeAPIKey")
	if err != nil {
		return Response{}, err
	}
	body, err := json.Marshal(geminiBody(c))
	if err != nil {
		return Response{}, fmt.Errorf("encode request: %w", err)
	}
	base := strings.TrimRight(cmp.Or(c.cfg.BaseURL, os.Getenv("GOOGLE_GENAI_BASE_URL"), geminiDefaultBase), "/")
	method := "generateContent"
	if c.onToken != nil {
		method = "streamGenerateContent?alt=sse"
	}
	target := base + "/v1beta/models/" + url.PathEscape(c.cfg.Model) + ":" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("%w: build request: %w", errConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-goog-api-key", key)
	resp, err := httpClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("generate content: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Response{}, geminiStatusError(resp)
	}
	if c.onToken == nil {
		var r geminiResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return Response{}, fmt.Errorf("read response: %w", err)
		}
		return Response{Text: r.text(), Usage: Usage{PromptTokens: r.UsageMetadata.PromptTokenCount, CompletionTokens: r.UsageMetadata.CandidatesTokenCount}}, nil
	}
	out := transcript{onToken: c.onToken}
	var usage Usage
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		var r geminiResponse
		if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &r); err != nil {
			return Response{}, fmt.Errorf("read stream: %w", err)
		}
		out.add(r.text())
		if r.UsageMetadata.CandidatesTokenCount > 0 {
			usage = Usage{PromptTokens: r.UsageMetadata.PromptTokenCount, CompletionTokens: r.UsageMetadata.CandidatesTokenCount}
		}
	}
	if err := sc.Err(); err != nil {
		return Response{}, fmt.Errorf("read stream: %w", err)
	}
	return Response{Text: out.String(), Usage: usage}, nil
}

// geminiBody maps the conversation onto Gemini's contents: system messages become the
// system instruction, assistant turns the "model" role.
func geminiBody(c call) geminiRequest {
	body := geminiRequest{GenerationConfig: geminiGeneration{
		Temperature: c.cfg.Temperature, TopP: c.cfg.TopP, MaxOutputTokens: c.cfg.MaxTokens, StopSequences: c.cfg.Stop,
	}}
	var system []geminiPart
	for _, m := range c.messages {
		switch m.Role {
		case RoleSystem:
			system = append(system, geminiPart{Text: m.Content})
		case RoleAssistant:
			body.Contents = append(body.Contents, geminiContent{Role: "model", Parts: []geminiPart{{Text: m.Content}}})
		default:
			body.Contents = append(body.Contents, geminiContent{Role: "user", Parts: []geminiPart{{Text: m.Content}}})
		}
	}
	if len(system) > 0 {
		body.SystemInstruction = &geminiContent{Parts: system}
	}
	return body
}

// geminiStatusError reads Google's {"error": {"message": …}} body into a statusError.
func geminiStatusError(resp *http.Response) error {
	return statusErrorOf(resp, "generate content", func(raw []byte) string {
		var body struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &body)
		return body.Error.Message
	})
}
