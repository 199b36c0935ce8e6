package llmmock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBodyBytes stops a confused client from making the mock buffer without
// bound.
const maxBodyBytes = 32 << 20

// dialect is one provider's wire format. The shared flow (record, fail, delay,
// answer) lives in Server.serve so every provider behaves the same way.
type dialect interface {
	// parse decodes the request into the common shape.
	parse(r *http.Request) (call, error)
	writeError(w http.ResponseWriter, status int, msg string)
	writeAnswer(w http.ResponseWriter, c call)
	streamContentType() string
	writeStream(sw *streamWriter, c call, chunks []string)
}

// call is one completion request plus what the mock decided to answer.
type call struct {
	Request
	includeUsage bool            // OpenAI stream_options.include_usage
	schema       json.RawMessage // OpenAI response_format json_schema: answer with JSON
	toolCall     *ToolCall       // the tool the mock calls instead of answering
	id           string
	answer       string
	usage        usage
}

type usage struct{ prompt, completion int }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	openAI := s.serve(openAIDialect{})
	mux.Handle("POST /v1/chat/completions", openAI)
	mux.Handle("POST /chat/completions", openAI)
	mux.Handle("POST /openai/deployments/{deployment}/chat/completions", openAI)
	mux.Handle("POST /v1/messages", s.serve(anthropicDialect{}))
	mux.Handle("POST /api/chat", s.serve(ollamaDialect{}))
	gemini, geminiEmbed := s.serve(geminiDialect{}), s.geminiEmbeddings()
	mux.Handle("POST /v1beta/models/{call}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.PathValue("call"), ":batchEmbedContents") {
			geminiEmbed.ServeHTTP(w, r)
			return
		}
		gemini.ServeHTTP(w, r)
	}))
	mux.Handle("POST /openai/deployments/{deployment}/embeddings", s.embeddings(false))
	mux.Handle("POST /v1/embeddings", s.embeddings(false))
	mux.Handle("POST /embeddings", s.embeddings(false))
	mux.Handle("POST /api/embed", s.embeddings(true))
	mux.Handle("POST /v1/moderations", s.moderations())
	mux.Handle("POST /moderations", s.moderations())
	return mux
}

func (s *Server) serve(d dialect) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := d.parse(r)
		if err != nil {
			d.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		c.Path = r.URL.Path
		c.Query = r.URL.Query()
		c.Headers = r.Header.Clone()
		if status := s.admit(c.Request); status != 0 {
			d.writeError(w, status, fmt.Sprintf("mock failure (status %d)", status))
			return
		}
		s.enter()
		defer s.leave()
		c.id = s.nextID("mock")
		c.answer = s.answer(c.Messages)
		if canned, ok := cannedAnswer(c.Messages); ok {
			c.answer = canned
		}
		if len(c.schema) == 0 {
			c.schema = instructedSchema(c.Messages)
		}
		if len(c.schema) > 0 {
			c.answer = schemaAnswer(c.schema, lastUserContent(c.Messages))
		}
		c.toolCall = wantedTool(c.Messages, c.Tools)
		c.usage = usage{prompt: promptTokens(c.Messages), completion: CountTokens(c.answer)}

		if !c.Stream {
			if s.wait(r.Context()) {
				d.writeAnswer(w, c)
			}
			return
		}
		sw := startStream(w, d.streamContentType())
		sw.pause = func() bool { return sleep(r.Context(), time.Duration(s.chunkDelay.Load())) }
		if s.wait(r.Context()) {
			d.writeStream(sw, c, splitChunks(c.answer, s.opts.ChunkCount))
		}
	})
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes)).Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// text is message content that may arrive as a plain string or as an array of
// typed parts (OpenAI content parts, Anthropic content blocks). The mock keeps
// only the text of the parts.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = text(s)
		return nil
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return errors.New("content must be a string or an array of parts")
	}
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	*t = text(sb.String())
	return nil
}

// wireMessage is a message of the dialects that give tool results a role of their own
// (OpenAI, Ollama).
type wireMessage struct {
	Role       string         `json:"role"`
	Content    text           `json:"content"` // null or absent when a turn only calls tools
	ToolCalls  []wireToolCall `json:"tool_calls"`
	ToolCallID string         `json:"tool_call_id"`
	ToolName   string         `json:"tool_name"` // Ollama
}

type wireToolCall struct {
	ID       string `json:"id,omitempty"`
	Function struct {
		Name      string    `json:"name"`
		Arguments arguments `json:"arguments"`
	} `json:"function"`
}

func toMessages(wire []wireMessage) ([]Message, error) {
	if len(wire) == 0 {
		return nil, errors.New("messages must not be empty")
	}
	out := make([]Message, len(wire))
	for i, m := range wire {
		out[i] = Message{Role: m.Role, Content: string(m.Content), ToolCallID: m.ToolCallID, ToolName: m.ToolName}
		for _, tc := range m.ToolCalls {
			out[i].ToolCalls = append(out[i].ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: string(tc.Function.Arguments)})
		}
	}
	return out, nil
}

// lastUserContent is what the conversation's last user message says.
func lastUserContent(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}
