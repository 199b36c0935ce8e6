package llmmock

import (
	"encoding/json"
	"net/http"
	"time"
)

// openAIDialect speaks the Chat Completions API, which Azure OpenAI shares
// (with the deployment in the path instead of a model in the body).
type openAIDialect struct{}

type openAIRequest struct {
	Model         string        `json:"model"`
	Messages      []wireMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Temperature         *float64 `json:"temperature"`
	MaxTokens           int      `json:"max_tokens"`
	MaxCompletionTokens int      `json:"max_completion_tokens"`
	ResponseFormat      struct {
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	Tools []toolSpec `json:"tools"`
}

func (openAIDialect) parse(r *http.Request) (call, error) {
	var body openAIRequest
	if err := decodeBody(r, &body); err != nil {
		return call{}, err
	}
	msgs, err := toMessages(body.Messages)
	if err != nil {
		return call{}, err
	}
	model := body.Model
	if model == "" {
		model = r.PathValue("deployment")
	}
	return call{
		Request: Request{
			Model:       model,
			Messages:    msgs,
			Stream:      body.Stream,
			Temperature: body.Temperature,
			MaxTokens:   max(body.MaxTokens, body.MaxCompletionTokens),
			Tools:       toolNames(body.Tools),
		},
		includeUsage: body.StreamOptions.IncludeUsage,
		schema:       body.ResponseFormat.JSONSchema.Schema,
	}, nil
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func newOpenAIUsage(u usage) *openAIUsage {
	return &openAIUsage{PromptTokens: u.prompt, CompletionTokens: u.completion, TotalTokens: u.prompt + u.completion}
}

type openAIMessage struct {
	Role      string           `json:"role,omitempty"`
	Content   *string          `json:"content,omitempty"`
	ToolCalls []openAIToolCall `json:"tool_calls,omitempty"`
}

type openAIToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type openAIChoice struct {
	Index        int            `json:"index"`
	Message      *openAIMessage `json:"message,omitempty"`
	Delta        *openAIMessage `json:"delta,omitempty"`
	Logprobs     any            `json:"logprobs"`
	FinishReason *string        `json:"finish_reason"`
}

type openAICompletion struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	SystemFingerprint string         `json:"system_fingerprint"`
	Choices           []openAIChoice `json:"choices"`
	Usage             *openAIUsage   `json:"usage,omitempty"`
}

func newOpenAICompletion(c call, object string) openAICompletion {
	return openAICompletion{
		ID:                "chatcmpl-" + c.id,
		Object:            object,
		Created:           time.Now().Unix(),
		Model:             c.Model,
		SystemFingerprint: "fp_llmmock",
		Choices:           []openAIChoice{},
	}
}

func (openAIDialect) writeAnswer(w http.ResponseWriter, c call) {
	resp := newOpenAICompletion(c, "chat.completion")
	stop := "stop"
	resp.Choices = []openAIChoice{{
		Message:      &openAIMessage{Role: "assistant", Content: &c.answer},
		FinishReason: &stop,
	}}
	if c.toolCall != nil {
		tc := openAIToolCall{ID: "call_" + c.id, Type: "function"}
		tc.Function.Name, tc.Function.Arguments = c.toolCall.Name, c.toolCall.Arguments
		reason := "tool_calls"
		resp.Choices = []openAIChoice{{Message: &openAIMessage{Role: "assistant", ToolCalls: []openAIToolCall{tc}}, FinishReason: &reason}}
	}
	resp.Usage = newOpenAIUsage(c.usage)
	writeJSON(w, http.StatusOK, resp)
}

func (openAIDialect) streamContentType() string { return "text/event-stream; charset=utf-8" }

// writeStream follows the real sequence: content deltas (the first also
// carrying the role), an empty delta with finish_reason, the usage-only chunk
// when the client asked for it, then the [DONE] sentinel.
func (openAIDialect) writeStream(sw *streamWriter, c call, chunks []string) {
	for i, piece := range chunks {
		chunk := newOpenAICompletion(c, "chat.completion.chunk")
		delta := &openAIMessage{Content: &piece}
		if i == 0 {
			delta.Role = "assistant"
		}
		chunk.Choices = []openAIChoice{{Delta: delta}}
		sw.event("", chunk)
	}
	final := newOpenAICompletion(c, "chat.completion.chunk")
	stop := "stop"
	final.Choices = []openAIChoice{{Delta: &openAIMessage{}, FinishReason: &stop}}
	sw.event("", final)
	if c.includeUsage {
		usageChunk := newOpenAICompletion(c, "chat.completion.chunk")
		usageChunk.Usage = newOpenAIUsage(c.usage)
		sw.event("", usageChunk)
	}
	sw.data("", []byte("[DONE]"))
}

func (openAIDialect) writeError(w http.ResponseWriter, status int, msg string) {
	errType, code := "invalid_request_error", any(nil)
	switch {
	case status == http.StatusUnauthorized:
		code = "invalid_api_key"
	case status == http.StatusTooManyRequests:
		errType, code = "requests", "rate_limit_exceeded"
	case status >= 500:
		errType = "server_error"
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": errType, "param": nil, "code": code,
	}})
}
