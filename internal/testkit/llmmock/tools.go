package llmmock

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// ToolCall is a tool call as the mock read it from a request, or the one it answers with.
type ToolCall struct {
	ID, Name string
	// Arguments is the call's JSON object, compacted so tests can compare it as text.
	Arguments string
}

// toolRequest is how a test asks the mock to call a tool: the last user message says
// "call <tool> with <JSON object>". A message may ask several times; the mock takes the first
// request for a tool it is offered, so one question can steer agents with different tools.
var toolRequest = regexp.MustCompile(`call ([\w-]+) with `)

// wantedTool returns the tool call the conversation asks for: only when the last message is
// the user's (after a tool's result the mock answers with it), the tool is offered and the
// arguments are a JSON object, since most dialects embed them as an object.
//
// A message that chains requests ("call calculator with {…} then call search with {…}")
// asks for them one turn after another: after the result of the n-th, the mock calls the
// next one rather than answering, until none is left.
func wantedTool(msgs []Message, tools []string) *ToolCall {
	if len(tools) == 0 || len(msgs) == 0 {
		return nil
	}
	last := msgs[len(msgs)-1]
	if last.Role == "user" {
		if calls := requestedTools(last.Content, tools); len(calls) > 0 {
			return &calls[0]
		}
		return nil
	}
	if last.Role != "tool" {
		return nil
	}
	// After a tool's result: the next chained request of the last user message, if any.
	made := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		switch m := msgs[i]; {
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			made++
		case m.Role == "user":
			if !strings.Contains(m.Content, "then call ") {
				return nil
			}
			if calls := requestedTools(m.Content, tools); made < len(calls) {
				return &calls[made]
			}
			return nil
		}
	}
	return nil
}

// requestedTools are the calls a message asks for, of the tools offered, in order.
func requestedTools(text string, tools []string) []ToolCall {
	var out []ToolCall
	for _, m := range toolRequest.FindAllStringSubmatchIndex(text, -1) {
		name := text[m[2]:m[3]]
		var args json.RawMessage
		if !slices.Contains(tools, name) || json.NewDecoder(strings.NewReader(text[m[1]:])).Decode(&args) != nil || !bytes.HasPrefix(args, []byte("{")) {
			continue
		}
		out = append(out, ToolCall{Name: name, Arguments: compactJSON(args)})
	}
	return out
}

// ToolAnswer is the mock's answer after a tool returned result.
func ToolAnswer(result string) string { return Answer("tool said " + result) }

// toolSpec is an offered tool in any dialect's words: OpenAI and Ollama nest the name in
// function, Anthropic puts it on top, Gemini lists functionDeclarations. The mock only
// needs the names.
type toolSpec struct {
	Name     string `json:"name"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
	FunctionDeclarations []struct {
		Name string `json:"name"`
	} `json:"functionDeclarations"`
}

func toolNames(specs []toolSpec) []string {
	var names []string
	for _, s := range specs {
		for _, name := range []string{s.Name, s.Function.Name} {
			if name != "" {
				names = append(names, name)
			}
		}
		for _, f := range s.FunctionDeclarations {
			names = append(names, f.Name)
		}
	}
	return names
}

// arguments are a tool call's arguments, kept as compact JSON text. OpenAI sends them as a
// string of JSON, the other dialects as an object, which is also how they go out.
type arguments string

func (a *arguments) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		b = []byte(s)
	}
	*a = arguments(compactJSON(b))
	return nil
}

func (a arguments) MarshalJSON() ([]byte, error) {
	if a == "" {
		return []byte("{}"), nil
	}
	return []byte(a), nil
}

// compactJSON drops insignificant whitespace; text that is not JSON stays as it is.
func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// part is one piece of a message whose content is a list (Anthropic blocks, Gemini parts).
type part struct {
	text   string
	call   *ToolCall
	result *Message // a tool's result, as a "tool" message
}

// fromParts turns one wire message into the mock's messages: every tool result as a "tool"
// message of its own, then its text and calls under role. Results come first because
// Anthropic wants them ahead of any text; a message holding only results yields only those,
// so the mock answers the last result.
func fromParts(role string, parts []part) []Message {
	m := Message{Role: role}
	var results []Message
	for _, p := range parts {
		m.Content += p.text
		if p.call != nil {
			m.ToolCalls = append(m.ToolCalls, *p.call)
		}
		if p.result != nil {
			results = append(results, *p.result)
		}
	}
	if len(results) > 0 && m.Content == "" && len(m.ToolCalls) == 0 {
		return results
	}
	return append(results, m)
}
