package agentflow

import (
	"regexp"
	"strconv"
	"strings"
)

// VarsScope is everything a node's text inputs can refer to with Flowise's {{ … }} syntax
// (resolveVariables in Flowise's packages/server/src/utils/buildAgentflow.ts). It holds values,
// never a clock: the caller supplies Now, so resolution is deterministic workflow code.
type VarsScope struct {
	Question    string            // {{ question }}
	ChatHistory string            // {{ chat_history }}, already formatted
	State       map[string]any    // {{ $flow.state.<path> }}
	Vars        map[string]string // {{ $vars.<name> }}
	// Flow holds the other $flow fields: sessionId, chatId, chatflowId, input… ("state" comes
	// from State).
	Flow map[string]any
	// Outputs maps a node id to that node's output object ({"content": …, …}) for
	// {{ <nodeId> }} and {{ <nodeId>.output.<path> }}.
	Outputs   map[string]any
	Iteration any            // {{ $iteration }}, {{ $iteration.<path> }}; nil outside iterations
	Form      map[string]any // {{ $form.<path> }}: the Start node's form input
	Now       string         // {{ current_date_time }} (Flowise: new Date().toISOString())

	// Less common references; their zero values answer as Flowise does without them.
	FileAttachment        string         // {{ file_attachment }}; also put before {{ question }} texts
	LoopCount             int            // {{ loop_count }}
	RuntimeMessagesLength int            // {{ runtime_messages_length }}
	Webhook               map[string]any // {{ $webhook.<path> }}
}

// varsRefPattern finds references as Flowise does (/{{(.*?)}}/g): lazily, within one line
// (JavaScript's "." stops at \n, \r, U+2028 and U+2029).
var varsRefPattern = regexp.MustCompile(`\{\{([^\n\r\x{2028}\x{2029}]*?)\}\}`)

// varsRichTextPattern recognises text saved by the editor's rich-text mode, which Flowise turns
// into markdown before resolving: it must start with one of the editor's block tags, so prompts
// that merely contain tags (<instruction>…) stay as they are.
var varsRichTextPattern = regexp.MustCompile(`(?i)^\s*<(?:p|div|h[1-6]|ul|ol|blockquote|pre|table)\b`)

// varsOutputPathPattern splits "<nodeId>.output.<path>" at the first ".output.".
var varsOutputPathPattern = regexp.MustCompile(`^(.*?)\.output\.(.+)$`)

// Resolve replaces every reference in text with its value. Rich-text HTML from the editor is
// first turned into markdown (PlainText). A reference that names nothing known stays as it
// was, braces included, as in Flowise. Unlike Flowise's chain of String.replace calls, the
// replacement is a single pass: inserted values are never searched for references again and
// "$&"-style patterns in them are not expanded, so user text cannot pull in other variables.
func (s VarsScope) Resolve(text string) string {
	return varsJSString(s.resolveText(text, false))
}

// ResolveAny resolves every string inside v (maps and slices are copied, never changed in
// place), as Flowise does for an input that accepts variables. Like Flowise, a string that is
// exactly one {{ <nodeId>.output.<path> }} takes the value's own type (a number stays a number).
func (s VarsScope) ResolveAny(v any) any {
	switch x := varsPlain(v).(type) {
	case string:
		return s.resolveText(x, true)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.ResolveAny(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = s.ResolveAny(e)
		}
		return out
	default:
		return x
	}
}

// resolveText resolves one string; with typed, a lone output-path reference keeps its type.
func (s VarsScope) resolveText(text string, typed bool) any {
	if varsRichTextPattern.MatchString(text) {
		text = PlainText(text)
	}
	locs := varsRefPattern.FindAllStringIndex(text, -1)
	if len(locs) == 0 {
		return text
	}
	if typed && len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(text) {
		if v, ok, outputPath := s.lookup(varsRefName(text)); ok && outputPath {
			return v
		}
	}
	var b strings.Builder
	questions, last := 0, 0
	for _, loc := range locs {
		token := text[loc[0]:loc[1]]
		name := varsRefName(token)
		b.WriteString(text[last:loc[0]])
		if v, ok, _ := s.lookup(name); ok {
			b.WriteString(varsJSString(v))
		} else {
			b.WriteString(token)
		}
		if name == "question" {
			questions++
		}
		last = loc[1]
	}
	b.WriteString(text[last:])
	out := b.String()
	// Flowise puts the uploaded files' text in front of the whole input once per {{ question }}.
	if s.FileAttachment != "" {
		out = strings.Repeat(s.FileAttachment+"\n\n", questions) + out
	}
	return out
}

// varsRefName is the reference inside a {{ … }} token: Flowise drops every brace, then trims.
func varsRefName(token string) string {
	return varsJSTrim(strings.NewReplacer("{", "", "}", "").Replace(token))
}

// lookup resolves one reference name. The value is what gets inserted (objects already JSON);
// outputPath marks the <nodeId>.output.<path> form, the one whose type Flowise keeps.
func (s VarsScope) lookup(name string) (v any, ok, outputPath bool) {
	switch name {
	case "question":
		return s.Question, true, false
	case "chat_history":
		return s.ChatHistory, true, false
	case "file_attachment":
		return s.FileAttachment, true, false
	case "current_date_time":
		return s.Now, true, false
	case "loop_count":
		return strconv.Itoa(s.LoopCount), true, false
	case "runtime_messages_length":
		return strconv.Itoa(s.RuntimeMessagesLength), true, false
	}
	if strings.HasPrefix(name, "$iteration") {
		if v, ok := s.iteration(name); ok {
			return v, true, false
		}
		return nil, false, false
	}
	for _, r := range []struct {
		prefix string
		root   func() any
	}{
		{"$form.", func() any { return s.Form }},
		{"$webhook.", func() any { return s.Webhook }},
		{"$vars.", func() any { return varsStringMap(s.Vars) }},
		{"$flow.", s.flowView},
	} {
		if rest, found := strings.CutPrefix(name, r.prefix); found {
			root := r.root
			// These forms treat null like a missing value: the reference stays.
			if v, ok := varsGet(root(), rest); ok && v != nil {
				return varsRender(v), true, false
			}
			return nil, false, false
		}
	}
	if m := varsOutputPathPattern.FindStringSubmatch(name); m != nil {
		if v, ok := s.outputPath(strings.ReplaceAll(m[1], `\`, ""), m[2]); ok {
			return v, true, true
		}
	}
	if v, ok := s.nodeContent(strings.ReplaceAll(name, `\`, "")); ok {
		return v, true, false
	}
	return nil, false, false
}

// iteration resolves $iteration and $iteration.<path>. Flowise only does so when the current
// item is truthy; for a string item any $iteration… reference is the whole string, and a path
// missing from an object item reads "undefined" (JavaScript's String(undefined)).
func (s VarsScope) iteration(name string) (any, bool) {
	item := varsPlain(s.Iteration)
	if !varsJSTruthy(item) {
		return nil, false
	}
	if name == "$iteration" {
		return varsRender(item), true
	}
	switch item.(type) {
	case string:
		return item, true
	case map[string]any, []any:
		v, ok := varsGet(item, strings.Replace(name, "$iteration.", "", 1))
		if !ok {
			return "undefined", true
		}
		return varsRender(v), true
	}
	return nil, false
}

// flowView is $flow: the Flow fields plus state.
func (s VarsScope) flowView() any {
	view := make(map[string]any, len(s.Flow)+1)
	for k, v := range s.Flow {
		view[k] = v
	}
	if s.State != nil {
		view["state"] = s.State
	}
	return view
}

// outputPath reads <path> inside a node's output object; null is a value here ("null").
func (s VarsScope) outputPath(nodeID, path string) (any, bool) {
	out, ok := s.Outputs[nodeID]
	if !ok || !varsJSTruthy(out) || varsJSTrim(path) == "" {
		return nil, false
	}
	v, ok := varsGet(out, path)
	if !ok {
		return nil, false
	}
	return varsRender(v), true
}

// nodeContent is {{ <nodeId> }}: the output's content, else its http.data (HTTP nodes); a node
// without either leaves the reference as it was.
func (s VarsScope) nodeContent(nodeID string) (any, bool) {
	out, ok := s.Outputs[nodeID]
	if !ok {
		return nil, false
	}
	v, ok := varsChild(out, "content")
	if !ok || v == nil {
		http, _ := varsChild(out, "http")
		v, ok = varsChild(http, "data")
	}
	if !ok || v == nil {
		return nil, false
	}
	return varsRender(v), true
}

// varsRender turns objects and arrays into JSON text and leaves other values alone.
func varsRender(v any) any {
	if varsIsObject(v) {
		return varsJSON(v)
	}
	return v
}

func varsStringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
