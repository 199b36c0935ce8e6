package llmmock

import (
	"errors"
	"net/http"
	"strings"
)

// geminiDialect speaks Google's Gemini API: models/{model}:generateContent, and
// :streamGenerateContent?alt=sse for streams.
type geminiDialect struct{}

type geminiPart struct {
	Text string `json:"text"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts"`
}

type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
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
		msgs = append(msgs, Message{Role: role, Content: joinParts(c.Parts)})
	}
	return call{Request: Request{
		Model: model, Messages: msgs, Stream: method == "streamGenerateContent",
		Temperature: body.GenerationConfig.Temperature, MaxTokens: body.GenerationConfig.MaxOutputTokens,
	}}, nil
}

func (geminiDialect) writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": http.StatusText(status)}})
}

func geminiAnswer(text string, u *usage) map[string]any {
	out := map[string]any{"candidates": []any{map[string]any{
		"content": geminiContent{Role: "model", Parts: []geminiPart{{Text: text}}}, "index": 0,
	}}}
	if u != nil {
		out["usageMetadata"] = map[string]int{"promptTokenCount": u.prompt, "candidatesTokenCount": u.completion, "totalTokenCount": u.prompt + u.completion}
	}
	return out
}

func (geminiDialect) writeAnswer(w http.ResponseWriter, c call) {
	writeJSON(w, http.StatusOK, geminiAnswer(c.answer, &c.usage))
}

func (geminiDialect) streamContentType() string { return "text/event-stream" }

// writeStream sends one data event per chunk, the last carrying the usage.
func (geminiDialect) writeStream(sw *streamWriter, c call, chunks []string) {
	for i, chunk := range chunks {
		var u *usage
		if i == len(chunks)-1 {
			u = &c.usage
		}
		sw.event("", geminiAnswer(chunk, u))
	}
}
