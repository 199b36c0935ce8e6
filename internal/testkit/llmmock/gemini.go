package llmmock

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// geminiDialect speaks Google's Gemini API: models/{model}:generateContent, and
// :streamGenerateContent?alt=sse for streams.
type geminiDialect struct{}

// geminiPart is one part of a content: text, a function call or a function's response.
type geminiPart struct {
	Text             string                  `json:"text,omitempty"`
	FunctionCall     *geminiFunctionCall     `json:"functionCall,omitempty"`
	FunctionResponse *geminiFunctionResponse `json:"functionResponse,omitempty"`
}

type geminiFunctionCall struct {
	ID   string    `json:"id,omitempty"`
	Name string    `json:"name"`
	Args arguments `json:"args"`
}

type geminiFunctionResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

// result is the response's text: its "content" string if it has one (what Flowgate sends),
// else its JSON.
func (r geminiFunctionResponse) result() string {
	var body struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(r.Response, &body) == nil && body.Content != nil {
		return *body.Content
	}
	return compactJSON(r.Response)
}

func (p geminiPart) part() part {
	switch {
	case p.FunctionCall != nil:
		fc := p.FunctionCall
		return part{call: &ToolCall{ID: fc.ID, Name: fc.Name, Arguments: string(fc.Args)}}
	case p.FunctionResponse != nil:
		fr := p.FunctionResponse
		return part{result: &Message{Role: "tool", Content: fr.result(), ToolCallID: fr.ID, ToolName: fr.Name}}
	}
	return part{text: p.Text}
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts"`
}

type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	Tools             []toolSpec      `json:"tools"`
	GenerationConfig  struct {
		Temperature     *float64 `json:"temperature"`
		MaxOutputTokens int      `json:"maxOutputTokens"`
	} `json:"generationConfig"`
}

func joinParts(parts []geminiPart) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func (geminiDialect) parse(r *http.Request) (call, error) {
	model, method, ok := strings.Cut(r.PathValue("call"), ":")
	if !ok || (method != "generateContent" && method != "streamGenerateContent") {
		return call{}, errors.New("path must be models/{model}:generateContent or :streamGenerateContent")
	}
	var body geminiRequest
	if err := decodeBody(r, &body); err != nil {
		return call{}, err
	}
	if len(body.Contents) == 0 {
		return call{}, errors.New("contents must not be empty")
	}
	var msgs []Message
	if body.SystemInstruction != nil {
		msgs = append(msgs, Message{Role: "system", Content: joinParts(body.SystemInstruction.Parts)})
	}
	for _, c := range body.Contents {
		role := "user"
		if c.Role == "model" {
			role = "assistant"
		}
		parts := make([]part, len(c.Parts))
		for i, p := range c.Parts {
			parts[i] = p.part()
		}
		msgs = append(msgs, fromParts(role, parts)...)
	}
	return call{Request: Request{
		Model: model, Messages: msgs, Tools: toolNames(body.Tools), Stream: method == "streamGenerateContent",
		Temperature: body.GenerationConfig.Temperature, MaxTokens: body.GenerationConfig.MaxOutputTokens,
	}}, nil
}

func (geminiDialect) writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": http.StatusText(status)}})
}

// geminiAnswer is a response of one candidate made of parts. Usage is given for the last
// response only (the whole answer, or a stream's final event), which also gets the finish
// reason.
func geminiAnswer(parts []geminiPart, u *usage) map[string]any {
	candidate := map[string]any{"content": geminiContent{Role: "model", Parts: parts}, "index": 0}
	out := map[string]any{"candidates": []any{candidate}}
	if u != nil {
		candidate["finishReason"] = "STOP"
		out["usageMetadata"] = map[string]int{"promptTokenCount": u.prompt, "candidatesTokenCount": u.completion, "totalTokenCount": u.prompt + u.completion}
	}
	return out
}

// writeAnswer answers with text, or with a function call which, like older Gemini
// models', has no id.
func (geminiDialect) writeAnswer(w http.ResponseWriter, c call) {
	part := geminiPart{Text: c.answer}
	if tc := c.toolCall; tc != nil {
		part = geminiPart{FunctionCall: &geminiFunctionCall{Name: tc.Name, Args: arguments(tc.Arguments)}}
	}
	writeJSON(w, http.StatusOK, geminiAnswer([]geminiPart{part}, &c.usage))
}

func (geminiDialect) streamContentType() string { return "text/event-stream" }

// writeStream sends one data event per chunk, the last carrying the usage.
func (geminiDialect) writeStream(sw *streamWriter, c call, chunks []string) {
	for i, chunk := range chunks {
		var u *usage
		if i == len(chunks)-1 {
			u = &c.usage
		}
		sw.event("", geminiAnswer([]geminiPart{{Text: chunk}}, u))
	}
}
