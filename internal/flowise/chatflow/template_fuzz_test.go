package chatflow_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
)

// FuzzTemplate checks the two template languages of chatflow inputs: LangChain's single-brace
// f-strings (TemplateVariables, FormatTemplate) and Flowise's {{ }} references (Vars.Resolve,
// PromptValues). Templates are flow inputs, which API callers can override where the flow
// allows it, and values are what users typed. No input may make them panic or take long, and
// each is a single pass: a value is inserted as it is and never read for references again, so
// the output is at most the template plus one value per reference, never a value expanded
// inside another. Run it with
//
//	go test ./internal/flowise/chatflow/ -run='^$' -fuzz='^FuzzTemplate$' -fuzztime=30s -fuzzminimizetime=2s
func FuzzTemplate(f *testing.F) {
	// The marketplace's prompts: every string input with a brace in it.
	for _, file := range fixture.Glob(f, "flows", "marketplace", "chatflows", "*.json") {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		var flow struct {
			Nodes []struct {
				Data struct {
					Inputs map[string]any `json:"inputs"`
				} `json:"data"`
			} `json:"nodes"`
		}
		require.NoError(f, json.Unmarshal(b, &flow))
		for _, n := range flow.Nodes {
			for _, v := range n.Data.Inputs {
				if s, ok := v.(string); ok && strings.Contains(s, "{") && !strings.HasSuffix(s, ".data.instance}}") {
					f.Add(s, "value")
				}
			}
		}
	}
	for _, s := range [][2]string{
		{"Tell me about {topic} in {lang}. Again: {topic}", "Go"},
		{"Escaped {{literal}} and {{ question }} but {real}", "{{question}}"},
		{"{{question}} {{ chat_history }} {{$vars.v}} {{$flow.sessionId}} {{llmChain_0.data.instance}}", "{{$vars.v}}{{question}}"},
		{`{"promptValues": "{{question}}", "x": {{question}}}`, "$&$1"},
		{"unclosed {x then {y", ""},
		{"}{ {} {{}} {{{ }}} {{{{x}}}}", "}{"},
	} {
		f.Add(s[0], s[1])
	}

	f.Fuzz(func(t *testing.T, template, value string) {
		values := map[string]string{}
		for _, name := range []string{"topic", "lang", "real", "x", "question", "input", "text"} {
			values[name] = value
		}
		vars := chatflow.Vars{
			Question: value, ChatHistory: value + value,
			Vars:    map[string]string{"v": value, "": value},
			Flow:    map[string]string{"sessionId": value, "chatId": "c"},
			Outputs: map[string]string{"llmChain_0": value, "a": value},
		}
		longest := 2 * len(value) // ChatHistory

		start := time.Now()
		names := chatflow.TemplateVariables(template)
		seen := map[string]bool{}
		total := 0
		for _, name := range names {
			require.False(t, seen[name], "variable %q listed twice", name)
			seen[name] = true
			require.NotContains(t, name, "}")
			require.Equal(t, strings.TrimSpace(name), name)
			total += len(name)
		}
		require.LessOrEqual(t, total, len(template))

		// With a value for every variable it lists, the template fills in, unless it has an
		// unclosed brace; each {name} (two bytes at least) becomes one value.
		all := map[string]string{}
		for _, name := range names {
			all[name] = value
		}
		out, err := chatflow.FormatTemplate(template, all)
		if err != nil {
			require.True(t, chatflow.IsFlowError(err))
			require.Contains(t, err.Error(), "unclosed")
		} else {
			require.LessOrEqual(t, len(out), len(template)+strings.Count(template, "{")*len(value))
		}
		if _, err := chatflow.FormatTemplate(template, values); err != nil {
			require.True(t, chatflow.IsFlowError(err), "%v", err)
		}

		// Each {{ }} reference (five bytes at least) becomes at most the longest value.
		refs := strings.Count(template, "{{")
		for _, resolve := range []func(string) string{vars.Resolve, vars.ResolveGlobals} {
			got := resolve(template)
			require.LessOrEqual(t, len(got), len(template)+refs*longest, "resolving outgrows template and values")
		}
		// A template without references comes back as it is.
		if !strings.Contains(template, "{{") {
			require.Equal(t, template, vars.Resolve(template))
		}

		// promptValues: a JSON object whose values are resolved the same way.
		pv, err := chatflow.PromptValues(template, vars)
		if err != nil {
			require.True(t, chatflow.IsFlowError(err), "%v", err)
		}
		// Keys and values are in the text, objects re-encoded (escaping at most six bytes
		// for one), then resolved.
		size := 0
		for k, v := range pv {
			size += len(k) + len(v)
		}
		require.LessOrEqual(t, size, 6*len(template)+refs*longest, "promptValues outgrow their text")
		require.Less(t, time.Since(start), 5*time.Second)
	})
}
