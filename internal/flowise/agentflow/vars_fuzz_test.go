package agentflow

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/fixture"
)

// editorTexts are the marketplace agentflows' text inputs that hold {{ }} references or the
// editor's rich-text HTML, as the activities resolve them.
func editorTexts(t testing.TB) []string {
	t.Helper()
	var texts []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "{{") || varsRichTextPattern.MatchString(x) {
				texts = append(texts, x)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, file := range fixture.Glob(t, "flows", "marketplace", "agentflowsv2", "*.json") {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		g, err := Parse(string(b))
		require.NoError(t, err)
		for _, n := range g.Nodes {
			walk(n.Inputs)
		}
	}
	require.NotEmpty(t, texts)
	return texts
}

// FuzzVarsResolve checks the {{ }} resolver of agentflow inputs. Texts come from flows (and
// the editor's HTML in them is converted first), values from users, models and HTTP answers.
// No input may make it panic or take long, and resolving is a single pass, so the output is
// at most the converted text plus one value per reference (and Flowise's copy of the file
// attachment per {{ question }}), never a value expanded inside another. The HTML conversion
// runs here with no fixed slack in its budget, so that small inputs reach it: its output is
// then at most that budget, or the text as written. Run it with
//
//	go test ./internal/flowise/agentflow/ -run='^$' -fuzz='^FuzzVarsResolve$' -fuzztime=30s -fuzzminimizetime=2s
func FuzzVarsResolve(f *testing.F) {
	for _, text := range editorTexts(f) {
		f.Add(text, "value", `{"a":[1,"x",{"b":null}]}`)
	}
	for _, s := range [][3]string{
		{"{{question}} {{ chat_history }} {{file_attachment}} {{current_date_time}} {{loop_count}} {{runtime_messages_length}}", "q", "1"},
		{"{{$flow.state.s.a[2].b}} {{$flow.state.v}} {{$flow.sessionId}} {{$vars.v}} {{$form.f.a.length}} {{$webhook.w['a'][0]}}", "{{question}}", `{"a":[1,2,{"b":"c"}]}`},
		{"{{llmAgentflow_0}} {{llmAgentflow_0.output.content}} {{n.output.a[1]}} {{$iteration}} {{$iteration.a.0}} {{ un.known }}", "$&$1", `{"a":"xyz"}`},
		{"{{llmAgentflow_0.output.output}}", "v", `[{"k":"v"}]`},
		{"<p><span class=\"variable\">{{ $flow.state.v }}</span> </p><ul><li>a<ul><li>b<br>c</li></ul></li></ul>", "v", "null"},
		{"<p>" + strings.Repeat("<ul><li>", 12) + strings.Repeat("x<br>", 12), "", "0"},
		{"<p>" + strings.Repeat("<blockquote>", 12) + "<h1>" + strings.Repeat("a<br>", 12), "", "0"},
		{"<p><code>` `` ```a</code> <ol start=\"0.1\"><li>x</li><li>y</li></ol><pre><code>a\nb</code></pre><a href=\"u(1)\" title=\"t\n\n x\">l</a><img src=s alt=\"a\n b\"></p>", "", ""},
		{"<div>" + strings.Repeat("<span>", 600) + "deep", "", ""},
		{"{{{{question}}}} {{question}}{{question}} {{ }} {{\u2028question}} }}{{", "{{question}}", `"s"`},
		{"{{ output }} and {{output.a}}", "o", `{"a":1}`},
	} {
		f.Add(s[0], s[1], s[2])
	}

	defer func(slack int) { varsMarkdownSlack = slack }(varsMarkdownSlack)
	varsMarkdownSlack = 0

	f.Fuzz(func(t *testing.T, text, value, object string) {
		var obj any = object
		if json.Valid([]byte(object)) {
			require.NoError(t, json.Unmarshal([]byte(object), &obj))
		}
		scope := VarsScope{
			Question: value, ChatHistory: value,
			State:   map[string]any{"s": obj, "v": value},
			Vars:    map[string]string{"v": value, "w": object},
			Flow:    map[string]any{"sessionId": value, "input": obj},
			Outputs: map[string]any{"llmAgentflow_0": map[string]any{"content": value, "output": obj}, "n": obj},
			Form:    map[string]any{"f": obj}, Webhook: map[string]any{"w": obj},
			Iteration: obj, Now: "2026-01-02T03:04:05.000Z", LoopCount: len(text), RuntimeMessagesLength: -1,
		}
		if len(value)%2 == 1 {
			scope.FileAttachment = value
		}
		// No value inserted is longer than all of them as JSON: a path picks a part of one, a
		// string goes in raw (shorter than quoted), an object as its JSON; a number, a string's
		// one character or "undefined" fit in the slack.
		longest := len(varsJSON([]any{value, obj, object, scope.Now})) + 32

		start := time.Now()
		plain := text
		if varsRichTextPattern.MatchString(text) {
			plain = PlainText(text)
			require.LessOrEqual(t, len(plain), max(len(text), varsMarkdownBudget(len(text))), "PlainText outgrows its budget")
		}
		refs := strings.Count(plain, "{{")
		bound := len(plain) + refs*(longest+len(scope.FileAttachment)+2)

		got := scope.Resolve(text)
		require.LessOrEqual(t, len(got), bound, "Resolve outgrows text and values")
		if !strings.Contains(plain, "{{") && scope.FileAttachment == "" {
			require.Equal(t, plain, got, "a text without references comes back as converted")
		}
		switch v := scope.ResolveAny(text).(type) {
		case string:
			require.LessOrEqual(t, len(v), bound, "ResolveAny outgrows text and values")
		default:
			// A lone {{ node.output.path }} keeps the value's type: a part of obj.
			require.LessOrEqual(t, len(varsJSON(v)), longest)
		}
		_ = scope.ResolveAny([]any{text, map[string]any{"k": text}})

		// After a node runs, {{ output }} in state values is replaced by its result, once.
		state := ApplyOutputToState(map[string]any{"t": text, "o": obj}, obj)
		if s, ok := state["t"].(string); ok {
			require.LessOrEqual(t, len(s), len(text)+strings.Count(text, "{{ output }}")*longest)
		}
		require.Less(t, time.Since(start), 5*time.Second)
	})
}

// The budget of PlainText must never touch what the editor writes: every rich text of the
// marketplace converts well within it, with no fixed slack at all.
func TestPlainTextBudgetFitsEditorHTML(t *testing.T) {
	defer func(slack int) { varsMarkdownSlack = slack }(varsMarkdownSlack)
	varsMarkdownSlack = 0
	converted := 0
	for _, text := range editorTexts(t) {
		if !varsRichTextPattern.MatchString(text) {
			continue
		}
		converted++
		root, err := varsParseHTML(text)
		require.NoError(t, err)
		m := &varsMarkdown{budget: varsMarkdownBudget(len(text)) / 8}
		m.children(root)
		require.False(t, m.over(), "editor HTML needs over 16 times its length: %.200q", text)
	}
	require.Positive(t, converted)
}
