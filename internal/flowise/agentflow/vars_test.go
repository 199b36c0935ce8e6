package agentflow

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func varsTestScope() VarsScope {
	return VarsScope{
		Question:    "What is 2+2?",
		ChatHistory: "user: hi\nassistant: hello",
		State: map[string]any{
			"next":   "SOFTWARE",
			"count":  3.0,
			"ratio":  0.5,
			"big":    1e21,
			"done":   false,
			"none":   nil,
			"items":  []any{"a", map[string]any{"name": "b"}},
			"obj":    map[string]any{"z": 1, "a": "x", "m": []any{true, nil}},
			"a.b":    "dotted key",
			"nested": map[string]any{"deep": map[string]any{"er": "value"}},
		},
		Vars: map[string]string{"API_URL": "https://api.example.com", "empty": ""},
		Flow: map[string]any{"sessionId": "sess-1", "chatId": "chat-1", "chatflowId": "flow-1", "input": "hi"},
		Outputs: map[string]any{
			"llmAgentflow_0": map[string]any{
				"content": "The answer is 4",
				"usage":   map[string]any{"total": 42.0},
				"list":    []any{map[string]any{"id": 7.0}},
				"nothing": nil,
				"flag":    true,
			},
			"httpAgentflow_0":   map[string]any{"http": map[string]any{"data": map[string]any{"ok": true}}},
			"jsonAgentflow_0":   map[string]any{"content": map[string]any{"b": 2, "a": 1}},
			"emptyAgentflow_0":  map[string]any{"content": ""},
			"silentAgentflow_0": map[string]any{"other": 1},
		},
		Form: map[string]any{"email": "a@b.c", "age": 30, "tags": []any{"x", "y"}},
		Now:  "2026-01-02T03:04:05.000Z",
	}
}

func TestVarsResolveReferences(t *testing.T) {
	s := varsTestScope()
	cases := []struct{ in, want string }{
		{"{{ question }}", "What is 2+2?"},
		{"{{question}}", "What is 2+2?"},
		{"{{   question\t}}", "What is 2+2?"},
		{"Q: {{ question }} / {{ question }}", "Q: What is 2+2? / What is 2+2?"},
		{"{{ chat_history }}", "user: hi\nassistant: hello"},
		{"{{ current_date_time }}", "2026-01-02T03:04:05.000Z"},
		{"{{ loop_count }}|{{ runtime_messages_length }}|[{{ file_attachment }}]", "0|0|[]"},

		{"{{ $flow.state.next }}", "SOFTWARE"},
		{"{{ $flow.state.count }}", "3"}, // JavaScript number text, no ".0"
		{"{{ $flow.state.ratio }}", "0.5"},
		{"{{ $flow.state.big }}", "1e+21"},
		{"{{ $flow.state.done }}", "false"},
		{"{{ $flow.state.items[1].name }}", "b"},
		{"{{ $flow.state.items.1.name }}", "b"},
		{"{{ $flow.state.items.length }}", "2"},
		{"{{ $flow.state.items }}", `["a",{"name":"b"}]`},
		{"{{ $flow.state.obj }}", `{"a":"x","m":[true,null],"z":1}`}, // compact, keys sorted
		{"{{ $flow.state.nested.deep.er }}", "value"},
		{"{{ $flow.state }}", `{"a.b":"dotted key","big":1e+21,"count":3,"done":false,"items":["a",{"name":"b"}],"nested":{"deep":{"er":"value"}},"next":"SOFTWARE","none":null,"obj":{"a":"x","m":[true,null],"z":1},"ratio":0.5}`},
		{"{{ $flow.sessionId }}/{{ $flow.chatId }}/{{ $flow.chatflowId }}/{{ $flow.input }}", "sess-1/chat-1/flow-1/hi"},

		{"{{ $vars.API_URL }}/v1", "https://api.example.com/v1"},
		{"[{{ $vars.empty }}]", "[]"},

		{"{{ $form.email }}", "a@b.c"},
		{"{{ $form.age }}", "30"},
		{"{{ $form.tags }}", `["x","y"]`},

		{"{{ llmAgentflow_0 }}", "The answer is 4"},
		{"{{ llmAgentflow_0.output.content }}", "The answer is 4"},
		{"{{ llmAgentflow_0.output.usage.total }}", "42"},
		{"{{ llmAgentflow_0.output.usage }}", `{"total":42}`},
		{"{{ llmAgentflow_0.output.list[0].id }}", "7"},
		{"{{ llmAgentflow_0.output.nothing }}", "null"}, // null is a value for output paths
		{`{{ llmAgentflow\_0 }}`, "The answer is 4"},    // old turndown escaped underscores
		{"{{ httpAgentflow_0 }}", `{"ok":true}`},        // HTTP nodes: output.http.data
		{"{{ jsonAgentflow_0 }}", `{"a":1,"b":2}`},
		{"[{{ emptyAgentflow_0 }}]", "[]"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, s.Resolve(c.in), "Resolve(%q)", c.in)
	}
}

// Flowise leaves a reference it cannot resolve exactly as written.
func TestVarsResolveUnknownStays(t *testing.T) {
	s := varsTestScope()
	for _, in := range []string{
		"{{ unknownNode_0 }}",
		"{{ silentAgentflow_0 }}", // ran, but has neither content nor http.data
		"{{ llmAgentflow_0.output.missing }}",
		"{{ unknownNode_0.output.content }}",
		"{{ $flow.state.missing }}",
		"{{ $flow.state.none }}", // null counts as missing for $flow, $vars, $form
		"{{ $flow.nothing }}",
		"{{ $vars.MISSING }}",
		"{{ $form.missing }}",
		"{{ $webhook.body.x }}",
		"{{ $iteration }}",
		"{{ $iteration.name }}",
		"{{ output.next }}",
		"{{ $flow }}",
		"{{ }}",
		"{{ question\n}}", // references do not span lines
		"{ question }",
	} {
		require.Equal(t, in, s.Resolve(in), "Resolve(%q)", in)
	}
	require.Equal(t, "x {{ nope }} What is 2+2?", s.Resolve("x {{ nope }} {{ question }}"))
}

func TestVarsResolveIteration(t *testing.T) {
	item := map[string]any{"name": "Ann", "tags": []any{"a"}, "n": nil}
	cases := []struct {
		item any
		in   string
		want string
	}{
		{item, "{{ $iteration }}", `{"n":null,"name":"Ann","tags":["a"]}`},
		{item, "{{ $iteration.name }}", "Ann"},
		{item, "{{ $iteration.tags }}", `["a"]`},
		{item, "{{ $iteration.tags[0] }}", "a"},
		{item, "{{ $iteration.n }}", "null"},
		{item, "{{ $iteration.missing }}", "undefined"}, // Flowise inserts String(undefined)
		{[]any{1.5, "b"}, "{{ $iteration.0 }}/{{ $iteration.1 }}", "1.5/b"},
		{[]any{1.5, "b"}, "{{ $iteration[0] }}", "undefined"}, // Flowise only strips "$iteration."
		{"plain", "{{ $iteration }}", "plain"},
		{"plain", "{{ $iteration.anything }}", "plain"}, // a text item answers every path
		{7.0, "{{ $iteration }}", "7"},
		{7.0, "{{ $iteration.x }}", "{{ $iteration.x }}"},
		// Falsy items are treated as "no iteration", as in Flowise.
		{0.0, "{{ $iteration }}", "{{ $iteration }}"},
		{"", "{{ $iteration }}", "{{ $iteration }}"},
		{false, "{{ $iteration }}", "{{ $iteration }}"},
		{map[string]any{}, "{{ $iteration }}", "{}"},
	}
	for _, c := range cases {
		s := VarsScope{Iteration: c.item}
		require.Equal(t, c.want, s.Resolve(c.in), "item %#v: Resolve(%q)", c.item, c.in)
	}
}

func TestVarsResolveRichText(t *testing.T) {
	s := varsTestScope()
	in := `<p>Route: <span class="variable" data-type="mention" data-id="$flow.state.next" ` +
		`data-label="$flow.state.next">{{ $flow.state.next }}</span> </p><p>Ask: {{ question }}</p>`
	require.Equal(t, "Route: SOFTWARE\n\nAsk: What is 2+2?", s.Resolve(in))
	// Only text that starts with an editor block tag is HTML; other tags are the user's.
	require.Equal(t, "<instruction>What is 2+2?</instruction>", s.Resolve("<instruction>{{ question }}</instruction>"))
	require.Equal(t, "a\n\n  b", s.Resolve("a\n\n  b"))
}

// Values are inserted literally in one pass: a value that looks like a reference, or holds
// JavaScript replacement patterns, is not interpreted.
func TestVarsResolveSinglePass(t *testing.T) {
	s := VarsScope{
		Question: "{{ $vars.SECRET }} costs $& $$",
		Vars:     map[string]string{"SECRET": "s3cret"},
	}
	require.Equal(t, "{{ $vars.SECRET }} costs $& $$ / s3cret", s.Resolve("{{ question }} / {{ $vars.SECRET }}"))
}

func TestVarsResolveFileAttachment(t *testing.T) {
	s := VarsScope{Question: "summarise", FileAttachment: "FILE TEXT"}
	require.Equal(t, "FILE TEXT\n\nPlease summarise", s.Resolve("Please {{ question }}"))
	require.Equal(t, "FILE TEXT", s.Resolve("{{ file_attachment }}"))
	require.Equal(t, "no question here", s.Resolve("no question here"))
}

func TestVarsResolveAny(t *testing.T) {
	s := varsTestScope()
	in := map[string]any{
		"count":   "{{ llmAgentflow_0.output.usage.total }}",
		"flag":    "{{ llmAgentflow_0.output.flag }}",
		"null":    "{{ llmAgentflow_0.output.nothing }}",
		"obj":     "{{ llmAgentflow_0.output.usage }}",
		"text":    "total: {{ llmAgentflow_0.output.usage.total }}",
		"state":   "{{ $flow.state.count }}", // only output paths keep their type
		"list":    []any{"{{ question }}", 1.0, true, nil},
		"nested":  map[string]any{"q": "{{ question }}"},
		"number":  5.0,
		"missing": "{{ llmAgentflow_0.output.missing }}",
	}
	got := s.ResolveAny(in)
	require.Equal(t, map[string]any{
		"count":   42.0,
		"flag":    true,
		"null":    nil,
		"obj":     `{"total":42}`,
		"text":    "total: 42",
		"state":   "3",
		"list":    []any{"What is 2+2?", 1.0, true, nil},
		"nested":  map[string]any{"q": "What is 2+2?"},
		"number":  5.0,
		"missing": "{{ llmAgentflow_0.output.missing }}",
	}, got)
	// The input was copied, not changed.
	require.Equal(t, "{{ question }}", in["list"].([]any)[0])
	require.Equal(t, "{{ question }}", in["nested"].(map[string]any)["q"])
}

func TestVarsResolveDeterministicJSON(t *testing.T) {
	obj := map[string]any{}
	for _, k := range []string{"q", "b", "z", "a", "m", "c", "y", "d"} {
		obj[k] = map[string]any{"y": 1, "x": []any{k}}
	}
	s := VarsScope{State: map[string]any{"obj": obj}}
	want := s.Resolve("{{ $flow.state.obj }}")
	require.Equal(t, `{"a":{"x":["a"],"y":1},"b":{"x":["b"],"y":1},"c":{"x":["c"],"y":1},"d":{"x":["d"],"y":1},`+
		`"m":{"x":["m"],"y":1},"q":{"x":["q"],"y":1},"y":{"x":["y"],"y":1},"z":{"x":["z"],"y":1}}`, want)
	for range 50 {
		require.Equal(t, want, s.Resolve("{{ $flow.state.obj }}"))
	}
}

func TestVarsJSFormatting(t *testing.T) {
	numbers := map[float64]string{
		0: "0", math.Copysign(0, -1): "0", 1: "1", -1.5: "-1.5", 0.1: "0.1", 1.0 / 3: "0.3333333333333333",
		1e21: "1e+21", 1.5e-7: "1.5e-7", 1e-6: "0.000001", 123456789012345680000: "123456789012345680000",
		math.NaN(): "NaN", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity",
	}
	for f, want := range numbers {
		require.Equal(t, want, varsJSNumber(f), "%v", f)
	}
	require.Equal(t, `{"a":[1,"x\n\"<>&\u0001",null,true],"b":null}`,
		varsJSON(map[string]any{"b": math.NaN(), "a": []any{1, "x\n\"<>&\x01", nil, true}}))
	type row struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	require.Equal(t, `[{"n":2,"name":"r"}]`, varsJSON([]row{{Name: "r", N: 2}}))
	require.Equal(t, `{"k":"v"}`, varsJSON(map[string]string{"k": "v"}))
}

func TestVarsPaths(t *testing.T) {
	require.Equal(t, []string{"a", "b", "0", "c"}, varsSplitPath("a.b[0].c"))
	require.Equal(t, []string{"a", "x.y", "z"}, varsSplitPath(`a["x.y"]['z']`))
	require.Equal(t, []string{"a", "", "b"}, varsSplitPath("a..b"))
	require.Equal(t, []string{"", "a"}, varsSplitPath(".a"))

	root := map[string]any{"a.b": 1, "a": map[string]any{"b": 2}, "s": "héllo", "l": []any{"x"}}
	v, ok := varsGet(root, "a.b")
	require.True(t, ok)
	require.Equal(t, 1, v, "a key holding the whole path wins, as in lodash")
	v, ok = varsGet(root, "a['b']")
	require.True(t, ok)
	require.Equal(t, 2, v)
	v, _ = varsGet(root, "s.length")
	require.Equal(t, 5.0, v)
	v, _ = varsGet(root, "s[1]")
	require.Equal(t, "é", v)
	_, ok = varsGet(root, "l.01")
	require.False(t, ok, "only canonical indexes")
	_, ok = varsGet(root, "l.5")
	require.False(t, ok)
}
