package llmmock

import (
	"net/http"
	"time"
)

// ollamaDialect speaks Ollama's /api/chat, whose streams are newline-delimited
// JSON rather than server-sent events.
type ollamaDialect struct{}

type ollamaRequest struct {
	Model    string        `json:"model"`
	Messages []wireMessage `json:"messages"`
	Tools    []toolSpec    `json:"tools"`
	Stream   *bool         `json:"stream"` // Ollama streams unless told not to
	Options  struct {
		Temperature *float64 `json:"temperature"`
		NumPredict  int      `json:"num_predict"`
	} `json:"options"`
}

func (ollamaDialect) parse(r *http.Request) (call, error) {
	var body ollamaRequest
	if err := decodeBody(r, &body); err != nil {
		return call{}, err
	}
	msgs, err := toMessages(body.Messages)
	if err != nil {
		return call{}, err
	}
	return call{Request: Request{
		Model:       body.Model,
		Messages:    msgs,
		Stream:      body.Stream == nil || *body.Stream,
		Temperature: body.Options.Temperature,
		MaxTokens:   body.Options.NumPredict,
		Tools:       toolNames(body.Tools),
	}}, nil
}

type ollamaMessage struct {
	Role      string         `json:"role"`
	Content   string         `json:"content"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type ollamaResponse struct {
	Model           string        `json:"model"`
	CreatedAt       time.Time     `json:"created_at"`
	Message         ollamaMessage `json:"message"`
	Done            bool          `json:"done"`
	DoneReason      string        `json:"done_reason,omitempty"`
	PromptEvalCount int           `json:"prompt_eval_count,omitempty"`
	EvalCount       int           `json:"eval_count,omitempty"`
}

func newOllamaResponse(c call, content string) ollamaResponse {
	return ollamaResponse{
		Model:     c.Model,
		CreatedAt: time.Now().UTC(),
		Message:   ollamaMessage{Role: "assistant", Content: content},
	}
}

// finish marks r as the final record, which is where Ollama reports counts.
func (r ollamaResponse) finish(u usage) ollamaResponse {
	r.Done, r.DoneReason = true, "stop"
	r.PromptEvalCount, r.EvalCount = u.prompt, u.completion
	return r
}

// writeAnswer answers with text, or with a tool call which, like Ollama's, has its
// arguments as an object and no id.
func (ollamaDialect) writeAnswer(w http.ResponseWriter, c call) {
	if c.toolCall == nil {
		writeJSON(w, http.StatusOK, newOllamaResponse(c, c.answer).finish(c.usage))
		return
	}
	resp := newOllamaResponse(c, "")
	var tc wireToolCall
	tc.Function.Name, tc.Function.Arguments = c.toolCall.Name, arguments(c.toolCall.Arguments)
	resp.Message.ToolCalls = []wireToolCall{tc}
	writeJSON(w, http.StatusOK, resp.finish(c.usage))
}

func (ollamaDialect) streamContentType() string { return "application/x-ndjson" }

func (ollamaDialect) writeStream(sw *streamWriter, c call, chunks []string) {
	for _, piece := range chunks {
		sw.line(newOllamaResponse(c, piece))
	}
	sw.line(newOllamaResponse(c, "").finish(c.usage))
}

func (ollamaDialect) writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
