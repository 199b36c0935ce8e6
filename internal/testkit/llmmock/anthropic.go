package llmmock

import (
	"encoding/json"
	"errors"
	"net/http"
)

// anthropicDialect speaks the Messages API.
type anthropicDialect struct{}

type anthropicRequest struct {
	Model       string             `json:"model"`
	System      text               `json:"system"`
	Messages    []anthropicMessage `json:"messages"`
	Tools       []toolSpec         `json:"tools"`
	Stream      bool               `json:"stream"`
	Temperature *float64           `json:"temperature"`
	MaxTokens   int                `json:"max_tokens"`
}

// anthropicMessage is a request message, whose content is a string or a list of blocks.
type anthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// anthropicInBlock is a request content block: text, tool_use or tool_result.
type anthropicInBlock struct {
	Type      string    `json:"type"`
	Text      string    `json:"text"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Input     arguments `json:"input"`
	ToolUseID string    `json:"tool_use_id"`
	Content   text      `json:"content"` // a tool_result's: a string or text blocks
}

func (b anthropicInBlock) part() part {
	switch b.Type {
	case "tool_use":
		return part{call: &ToolCall{ID: b.ID, Name: b.Name, Arguments: string(b.Input)}}
	case "tool_result":
		return part{result: &Message{Role: "tool", Content: string(b.Content), ToolCallID: b.ToolUseID}}
	}
	return part{text: b.Text}
}

// messages maps m onto the mock's messages; a user message of tool_result blocks
// becomes "tool" messages.
func (m anthropicMessage) messages() ([]Message, error) {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []Message{{Role: m.Role, Content: s}}, nil
	}
	var blocks []anthropicInBlock
	if err := json.Unmarshal(m.Content, &blocks); err != nil {
		return nil, errors.New("content must be a string or an array of content blocks")
	}
	parts := make([]part, len(blocks))
	for i, b := range blocks {
		parts[i] = b.part()
	}
	return fromParts(m.Role, parts), nil
}

func (anthropicDialect) parse(r *http.Request) (call, error) {
	var body anthropicRequest
	if err := decodeBody(r, &body); err != nil {
		return call{}, err
	}
	if len(body.Messages) == 0 {
		return call{}, errors.New("messages must not be empty")
	}
	var msgs []Message
	if body.System != "" {
		msgs = append(msgs, Message{Role: "system", Content: string(body.System)})
	}
	for _, m := range body.Messages {
		converted, err := m.messages()
		if err != nil {
			return call{}, err
		}
		msgs = append(msgs, converted...)
	}
	return call{Request: Request{
		Model:       body.Model,
		Messages:    msgs,
		Tools:       toolNames(body.Tools),
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

// anthropicToolUse is the block with which the model calls a tool.
type anthropicToolUse struct {
	Type  string    `json:"type"` // "tool_use"
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Input arguments `json:"input"`
}

// anthropicAnswer is the Message object the API answers with.
type anthropicAnswer struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Role         string         `json:"role"`
	Model        string         `json:"model"`
	Content      []any          `json:"content"` // anthropicBlock or anthropicToolUse
	StopReason   *string        `json:"stop_reason"`
	StopSequence *string        `json:"stop_sequence"`
	Usage        anthropicUsage `json:"usage"`
}

func newAnthropicAnswer(c call) anthropicAnswer {
	return anthropicAnswer{
		ID:      "msg_" + c.id,
		Type:    "message",
		Role:    "assistant",
		Model:   c.Model,
		Content: []any{},
	}
}

func (anthropicDialect) writeAnswer(w http.ResponseWriter, c call) {
	msg := newAnthropicAnswer(c)
	stop := "end_turn"
	msg.Content = []any{anthropicBlock{Type: "text", Text: c.answer}}
	if tc := c.toolCall; tc != nil {
		stop = "tool_use"
		msg.Content = []any{anthropicToolUse{Type: "tool_use", ID: "toolu_" + c.id, Name: tc.Name, Input: arguments(tc.Arguments)}}
	}
	msg.StopReason = &stop
	msg.Usage = anthropicUsage{InputTokens: c.usage.prompt, OutputTokens: c.usage.completion}
	writeJSON(w, http.StatusOK, msg)
}

func (anthropicDialect) streamContentType() string { return "text/event-stream; charset=utf-8" }

// writeStream emits the documented event sequence: message_start, a ping,
// one text content block with a text_delta per chunk, message_delta with the
// stop reason and output usage, then message_stop.
func (anthropicDialect) writeStream(sw *streamWriter, c call, chunks []string) {
	start := newAnthropicAnswer(c)
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
