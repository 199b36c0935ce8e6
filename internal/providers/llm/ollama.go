package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

const (
	ollamaDefaultBase = "http://localhost:11434"
	ollamaDefaultPort = "11434"
)

// ollamaRequest is the body of POST /api/chat
// (https://github.com/ollama/ollama/blob/main/docs/api.md).
type ollamaRequest struct {
	Model    string          `json:"model"`
	Messages []ollamaMessage `json:"messages"`
	Tools    []ollamaTool    `json:"tools,omitempty"`
	Stream   bool            `json:"stream"` // always sent: Ollama streams when it is absent
	Options  ollamaOptions   `json:"options,omitzero"`
}

// ollamaMessage is a chat message; tool results name the function they come from, which
// is how models without call ids tell results apart.
type ollamaMessage struct {
	Role       string           `json:"role"`
	Content    string           `json:"content"`
	ToolCalls  []ollamaToolCall `json:"tool_calls,omitempty"`
	ToolName   string           `json:"tool_name,omitempty"`
	ToolCallID string           `json:"tool_call_id,omitempty"`
}

type ollamaToolCall struct {
	ID       string `json:"id,omitempty"` // only newer servers send one
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"` // an object, unlike OpenAI's string
	} `json:"function"`
}

type ollamaTool struct {
	Type     string       `json:"type"` // "function"
	Function functionDecl `json:"function"`
}

type ollamaOptions struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	NumPredict  int      `json:"num_predict,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

// ollamaResponse is both the non-streamed answer and one NDJSON record of a
// stream; the final record has Done set and carries the token counts.
type ollamaResponse struct {
	Message         ollamaMessage `json:"message"`
	Done            bool          `json:"done"`
	PromptEvalCount int           `json:"prompt_eval_count"`
	EvalCount       int           `json:"eval_count"`
	Error           string        `json:"error"`
}

// toolCalls are the calls the answer asked for, numbered in order when Ollama gives them
// no id.
func (r ollamaResponse) toolCalls() []ToolCall {
	var calls []ToolCall
	for i, tc := range r.Message.ToolCalls {
		calls = append(calls, ToolCall{ID: callID(tc.ID, i), Name: tc.Function.Name, Arguments: argumentsText(tc.Function.Arguments)})
	}
	return calls
}

func (r ollamaResponse) usage() Usage {
	return Usage{PromptTokens: r.PromptEvalCount, CompletionTokens: r.EvalCount}
}

// chatOllama calls Ollama's REST API directly; its wire format is small enough
// that an SDK would add weight without value.
func chatOllama(ctx context.Context, c call) (Response, error) {
	base, err := ollamaBaseURL(c.cfg.BaseURL)
	if err != nil {
		return Response{}, err
	}
	msgs, err := ollamaMessages(c.messages)
	if err != nil {
		return Response{}, err
	}
	decls, err := functionDecls(c.tools)
	if err != nil {
		return Response{}, err
	}
	tools := make([]ollamaTool, len(decls))
	for i, d := range decls {
		tools[i] = ollamaTool{Type: "function", Function: d}
	}
	body, err := json.Marshal(ollamaRequest{
		Model:    c.cfg.Model,
		Messages: msgs,
		Tools:    tools,
		Stream:   c.onToken != nil,
		Options: ollamaOptions{
			Temperature: c.cfg.Temperature,
			TopP:        c.cfg.TopP,
			NumPredict:  c.cfg.MaxTokens,
			Stop:        c.cfg.Stop,
		},
	})
	if err != nil {
		return Response{}, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/chat", bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("%w: build request: %w", errConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Optional: plain Ollama has no auth, proxies in front of it often do.
	if key := strings.TrimSpace(c.secret["ollamaApiKey"]); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}

	resp, err := httpClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("post chat: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Response{}, ollamaStatusError(resp)
	}
	dec := json.NewDecoder(resp.Body)
	if c.onToken == nil {
		var r ollamaResponse
		if err := decodeOllama(dec, &r); err != nil {
			return Response{}, fmt.Errorf("read response: %w", err)
		}
		return Response{Text: r.Message.Content, ToolCalls: r.toolCalls(), Usage: r.usage()}, nil
	}

	out := transcript{onToken: c.onToken}
	for {
		var r ollamaResponse
		if err := decodeOllama(dec, &r); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the stream must end with done
			}
			return Response{}, fmt.Errorf("read stream: %w", err)
		}
		out.add(r.Message.Content)
		if r.Done {
			return Response{Text: out.String(), Usage: r.usage()}, nil
		}
	}
}

// ollamaMessages maps the conversation onto Ollama's messages: calls go back with their
// arguments as objects, and results carry the name of the function that produced them.
func ollamaMessages(msgs []Message) ([]ollamaMessage, error) {
	out := make([]ollamaMessage, len(msgs))
	names := map[string]string{} // call id -> function, from the calls so far
	for i, m := range msgs {
		out[i] = ollamaMessage{Role: string(m.Role), Content: m.Content}
		if m.Role == RoleTool {
			out[i].ToolCallID, out[i].ToolName = m.ToolCallID, names[m.ToolCallID]
		}
		for _, tc := range m.ToolCalls {
			args, err := argumentsObject(tc)
			if err != nil {
				return nil, err
			}
			names[tc.ID] = tc.Name
			call := ollamaToolCall{ID: tc.ID}
			call.Function.Name, call.Function.Arguments = tc.Name, args
			out[i].ToolCalls = append(out[i].ToolCalls, call)
		}
	}
	return out, nil
}

// decodeOllama reads one record, turning an in-band error into a Go error.
func decodeOllama(dec *json.Decoder, r *ollamaResponse) error {
	if err := dec.Decode(r); err != nil {
		return err
	}
	if r.Error != "" {
		return fmt.Errorf("ollama: %s", r.Error)
	}
	return nil
}

// ollamaStatusError reads Ollama's {"error": "..."} body into a statusError.
func ollamaStatusError(resp *http.Response) error {
	return statusErrorOf(resp, "post chat", func(raw []byte) string {
		var body struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &body)
		return body.Error
	})
}

// statusErrorOf reads a REST provider's error answer into a statusError: message extracts
// the provider's own message from the body, else the body's text stands.
func statusErrorOf(resp *http.Response, op string, message func(raw []byte) string) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	msg := strings.TrimSpace(string(raw))
	if m := message(raw); m != "" {
		msg = m
	}
	return &statusError{status: resp.StatusCode, err: fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, msg)}
}

// ollamaBaseURL picks the server: the node's baseUrl, then OLLAMA_HOST, then
// the local default.
func ollamaBaseURL(configured string) (string, error) {
	if configured != "" {
		return strings.TrimRight(configured, "/"), nil
	}
	host := os.Getenv("OLLAMA_HOST")
	if host == "" {
		return ollamaDefaultBase, nil
	}
	base, err := parseOllamaHost(host)
	if err != nil {
		return "", fmt.Errorf("%w: OLLAMA_HOST: %w", errConfig, err)
	}
	return base, nil
}

// parseOllamaHost reads OLLAMA_HOST the way the ollama CLI does: "host",
// "host:port" or a URL; without a scheme it means http on port 11434.
func parseOllamaHost(host string) (string, error) {
	hasScheme := strings.Contains(host, "://")
	if !hasScheme {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("%q is not an http(s) host", host)
	}
	if !hasScheme && u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), ollamaDefaultPort)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
