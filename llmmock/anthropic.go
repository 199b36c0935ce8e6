package llmmock

import "net/http"

// anthropicDialect speaks the Messages API.
type anthropicDialect struct{}

type anthropicRequest struct {
	Model       string        `json:"model"`
	System      text          `json:"system"`
	Messages    []wireMessage `json:"messages"`
	Stream      bool          `json:"stream"`
	Temperature *float64      `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
}

func (anthropicDialect) parse(r *http.Request) (call, error) {
	var body anthropicRequest
	if err := decodeBody(r, &body); err != nil {
		return call{}, err
	}
	msgs, err := toMessages(body.Messages)
	if err != nil {
		return call{}, err
	}
	if body.System != "" {
		msgs = append([]Message{{Role: "system", Content: string(body.System)}}, msgs...)
	}
	return call{Request: Request{
		Model:       body.Model,
		Messages:    msgs,
		Stream:      body.Stream,
		Temperature: body.Temperature,
		MaxTokens:   body.MaxTokens,
	}}, nil
}

type anthropicUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

type anthropicBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicMessage struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []anthropicBlock `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        anthropicUsage   `json:"usage"`
}

func newAnthropicMessage(c call) anthropicMessage {
	return anthropicMessage{
		ID:      "msg_" + c.id,
		Type:    "message",
		Role:    "assistant",
		Model:   c.Model,
		Content: []anthropicBlock{},
	}
}

func (anthropicDialect) writeAnswer(w http.ResponseWriter, c call) {
	msg := newAnthropicMessage(c)
	endTurn := "end_turn"
	msg.Content = []anthropicBlock{{Type: "text", Text: c.answer}}
	msg.StopReason = &endTurn
	msg.Usage = anthropicUsage{InputTokens: c.usage.prompt, OutputTokens: c.usage.completion}
	writeJSON(w, http.StatusOK, msg)
}

func (anthropicDialect) streamContentType() string { return "text/event-stream; charset=utf-8" }

// writeStream emits the documented event sequence: message_start, a ping,
// one text content block with a text_delta per chunk, message_delta with the
// stop reason and output usage, then message_stop.
func (anthropicDialect) writeStream(sw *streamWriter, c call, chunks []string) {
	start := newAnthropicMessage(c)
	start.Usage = anthropicUsage{InputTokens: c.usage.prompt, OutputTokens: 1}
	sw.event("message_start", map[string]any{"type": "message_start", "message": start})
	sw.event("ping", map[string]any{"type": "ping"})
	sw.event("content_block_start", map[string]any{
		"type": "content_block_start", "index": 0,
		"content_block": anthropicBlock{Type: "text"},
	})
	for _, piece := range chunks {
		sw.event("content_block_delta", map[string]any{
			"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": piece},
		})
	}
	sw.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	sw.event("message_delta", map[string]any{
		"type":  "message_delta",
		"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": c.usage.completion},
	})
	sw.event("message_stop", map[string]any{"type": "message_stop"})
}

func (anthropicDialect) writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"type":  "error",
		"error": map[string]any{"type": anthropicErrorType(status), "message": msg},
	})
}

func anthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}
