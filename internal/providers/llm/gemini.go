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
	"slices"
	"strings"
)

// geminiDefaultBase is the Gemini API (Google AI Studio keys).
const geminiDefaultBase = "https://generativelanguage.googleapis.com"

// geminiRequest is the body of models/{model}:generateContent
// (https://ai.google.dev/api/generate-content).
type geminiRequest struct {
	Contents          []geminiContent  `json:"contents"`
	SystemInstruction *geminiContent   `json:"systemInstruction,omitempty"`
	Tools             []geminiTool     `json:"tools,omitempty"`
	GenerationConfig  geminiGeneration `json:"generationConfig,omitzero"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"` // "user" or "model"
	Parts []geminiPart `json:"parts"`
}

// geminiPart holds one kind of data: text, a function call or a function's response.
type geminiPart struct {
	Text             string                  `json:"text,omitempty"`
	FunctionCall     *geminiFunctionCall     `json:"functionCall,omitempty"`
	FunctionResponse *geminiFunctionResponse `json:"functionResponse,omitempty"`
	// ThoughtSignature is Gemini's opaque token for the reasoning behind a call.
	ThoughtSignature string `json:"thoughtSignature,omitempty"`
}

type geminiFunctionCall struct {
	ID   string          `json:"id,omitempty"` // only newer models send one
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type geminiFunctionResponse struct {
	Name     string `json:"name"`
	Response struct {
		Content string `json:"content"`
	} `json:"response"`
}

type geminiTool struct {
	FunctionDeclarations []functionDecl `json:"functionDeclarations"`
}

// geminiSkipSignature is the value Google documents for function calls replayed without the
// thought signature they came with: Gemini 3 models reject such calls otherwise, and a
// ToolCall has no room to carry the real signature through the caller's history.
const geminiSkipSignature = "skip_thought_signature_validator"

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

// parts are the first candidate's: one candidate is asked for.
func (r geminiResponse) parts() []geminiPart {
	if len(r.Candidates) == 0 {
		return nil
	}
	return r.Candidates[0].Content.Parts
}

// text is the first candidate's text.
func (r geminiResponse) text() string {
	var b strings.Builder
	for _, p := range r.parts() {
		b.WriteString(p.Text)
	}
	return b.String()
}

// toolCalls are the first candidate's function calls, numbered in order when Gemini gives
// them no id.
func (r geminiResponse) toolCalls() []ToolCall {
	var calls []ToolCall
	for _, p := range r.parts() {
		if fc := p.FunctionCall; fc != nil {
			calls = append(calls, ToolCall{ID: callID(fc.ID, len(calls)), Name: fc.Name, Arguments: argumentsText(fc.Args)})
		}
	}
	return calls
}

// chatGemini calls Google's Gemini API over REST; GOOGLE_GENAI_BASE_URL or the node's
// baseUrl replace its address.
func chatGemini(ctx context.Context, c call) (Response, error) {
	key, err := c.secret.field("googleGenerativeAPIKey")
	if err != nil {
		return Response{}, err
	}
	request, err := geminiBody(c)
	if err != nil {
		return Response{}, err
	}
	body, err := json.Marshal(request)
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
		return Response{Text: r.text(), ToolCalls: r.toolCalls(), Usage: Usage{PromptTokens: r.UsageMetadata.PromptTokenCount, CompletionTokens: r.UsageMetadata.CandidatesTokenCount}}, nil
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
// system instruction, assistant turns the "model" role with their calls as functionCall
// parts, and the results of one step one "user" content of functionResponse parts, as many
// as the step had calls (Gemini insists).
func geminiBody(c call) (geminiRequest, error) {
	body := geminiRequest{GenerationConfig: geminiGeneration{
		Temperature: c.cfg.Temperature, TopP: c.cfg.TopP, MaxOutputTokens: c.cfg.MaxTokens, StopSequences: c.cfg.Stop,
	}}
	var system []geminiPart
	// A functionResponse names its function, not its call: names maps the calls so far.
	names := map[string]string{}
	for _, turn := range turns(c.messages) {
		m := turn[0]
		switch m.Role {
		case RoleSystem:
			system = append(system, geminiPart{Text: m.Content})
		case RoleAssistant:
			var parts []geminiPart
			if m.Content != "" || len(m.ToolCalls) == 0 {
				parts = append(parts, geminiPart{Text: m.Content})
			}
			for _, tc := range m.ToolCalls {
				args, err := argumentsObject(tc)
				if err != nil {
					return body, err
				}
				names[tc.ID] = tc.Name
				parts = append(parts, geminiPart{FunctionCall: &geminiFunctionCall{Name: tc.Name, Args: args}, ThoughtSignature: geminiSkipSignature})
			}
			body.Contents = append(body.Contents, geminiContent{Role: "model", Parts: parts})
		case RoleTool:
			parts := make([]geminiPart, 0, len(turn))
			for _, r := range turn {
				name, ok := names[r.ToolCallID]
				if !ok {
					return body, fmt.Errorf("%w: tool result %q answers no earlier tool call", errConfig, r.ToolCallID)
				}
				resp := &geminiFunctionResponse{Name: name}
				resp.Response.Content = r.Content
				parts = append(parts, geminiPart{FunctionResponse: resp})
			}
			body.Contents = append(body.Contents, geminiContent{Role: "user", Parts: parts})
		default:
			body.Contents = append(body.Contents, geminiContent{Role: "user", Parts: []geminiPart{{Text: m.Content}}})
		}
	}
	if len(system) > 0 {
		body.SystemInstruction = &geminiContent{Parts: system}
	}
	decls, err := functionDecls(c.tools)
	if err != nil {
		return body, err
	}
	for i := range decls {
		decls[i].Parameters = geminiParameters(decls[i].Parameters)
	}
	if len(decls) > 0 {
		body.Tools = []geminiTool{{FunctionDeclarations: decls}}
	}
	return body, nil
}

// geminiSchemaFields are the fields of Gemini's Schema object
// (https://ai.google.dev/api/caching#Schema). The API rejects any other key, and JSON
// schemas from zod and friends carry several ($schema, additionalProperties, $ref, …).
var geminiSchemaFields = []string{
	"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
	"properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
	"pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
}

// geminiParameters is a tool's schema as Gemini accepts it, or nil for a tool without
// parameters: Gemini refuses an object schema that has no properties.
func geminiParameters(schema map[string]any) map[string]any {
	clean := geminiSchema(schema)
	typ, _ := clean["type"].(string)
	if props, _ := clean["properties"].(map[string]any); len(props) == 0 && strings.EqualFold(typ, "object") {
		return nil
	}
	return clean
}

// geminiSchema keeps the fields Gemini knows, recursing into nested schemas.
func geminiSchema(schema map[string]any) map[string]any {
	out := make(map[string]any, len(schema))
	for key, v := range schema {
		if !slices.Contains(geminiSchemaFields, key) {
			continue
		}
		switch key {
		case "properties":
			props, _ := v.(map[string]any)
			clean := make(map[string]any, len(props))
			for name, p := range props {
				if sub, ok := p.(map[string]any); ok {
					clean[name] = geminiSchema(sub)
				}
			}
			v = clean
		case "items":
			if sub, ok := v.(map[string]any); ok {
				v = geminiSchema(sub)
			}
		case "anyOf":
			list, _ := v.([]any)
			clean := make([]any, 0, len(list))
			for _, item := range list {
				if sub, ok := item.(map[string]any); ok {
					clean = append(clean, geminiSchema(sub))
				}
			}
			v = clean
		}
		out[key] = v
	}
	return out
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
