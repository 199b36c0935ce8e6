package llmmock

import (
	"net/http"
	"net/url"
)

// Message is one chat turn as the mock understood it. Anthropic's top-level
// system prompt is recorded as a leading "system" message, and every tool result
// as a "tool" message (Anthropic tool_result blocks, Gemini functionResponse
// parts), so tests can treat all providers alike.
type Message struct {
	Role    string
	Content string
	// ToolCalls are the calls an assistant turn carried.
	ToolCalls []ToolCall
	// ToolCallID and ToolName are what a "tool" message says it answers: a call
	// id (OpenAI, Anthropic, newer Ollama), a function name (Gemini, Ollama), or both.
	ToolCallID, ToolName string
}

// Request is what the mock recorded about one completion request.
type Request struct {
	Path        string
	Query       url.Values
	Model       string // body model, or the Azure deployment when the body has none
	Messages    []Message
	Tools       []string // names of the tools offered
	Stream      bool
	Temperature *float64
	MaxTokens   int
	Input       []string    // what an embeddings request asked to embed
	Headers     http.Header // as received, auth headers included
}

// requestLog keeps the newest max requests. It grows like a slice until it
// reaches max and then overwrites the oldest entry, so a short test pays for
// what it records and a long benchmark stays bounded.
type requestLog struct {
	buf  []Request
	max  int
	next int // once full, the index of the oldest entry, overwritten next
}

func newRequestLog(limit int) requestLog {
	return requestLog{max: max(limit, 0)}
}

func (l *requestLog) add(r Request) {
	switch {
	case l.max == 0:
	case len(l.buf) < l.max:
		l.buf = append(l.buf, r)
	default:
		l.buf[l.next] = r
		l.next = (l.next + 1) % l.max
	}
}

// snapshot returns the entries oldest first in a new slice.
func (l *requestLog) snapshot() []Request {
	out := make([]Request, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

func (l *requestLog) clear() {
	l.buf = nil
	l.next = 0
}
