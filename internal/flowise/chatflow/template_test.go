package chatflow_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

func TestTemplateVariables(t *testing.T) {
	tests := []struct {
		template string
		want     []string
	}{
		{"Tell me about {topic} in {lang}. Again: {topic}", []string{"topic", "lang"}},
		{"{ spaced }", []string{"spaced"}},
		{"Escaped {{literal}} but {real}", []string{"real"}},
		{`JSON example: {{"a": 1}} for {question}`, []string{"question"}},
		{"no variables", nil},
		{"", nil},
		{"unclosed {x then {y", nil},
		{"{a}{b}{c}", []string{"a", "b", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.template, func(t *testing.T) {
			require.Equal(t, tc.want, chatflow.TemplateVariables(tc.template))
		})
	}
}

func TestFormatTemplate(t *testing.T) {
	values := map[string]string{"topic": "Go", "lang": "French", "empty": "", "brace": "{x}"}
	tests := []struct {
		name, template, want string
	}{
		{"variables", "Tell me about {topic} in {lang}.", "Tell me about Go in French."},
		{"repeated", "{topic}, {topic}!", "Go, Go!"},
		{"spaces in braces", "{ topic }", "Go"},
		{"empty value", "[{empty}]", "[]"},
		{"escaped braces", "Use {{topic}} literally, not {topic}", "Use {topic} literally, not Go"},
		{"escaped json", `Answer as {{"answer": "..."}}`, `Answer as {"answer": "..."}`},
		{"value with braces is not re-read", "{brace}", "{x}"},
		{"lone closing brace kept", "a } b", "a } b"},
		{"no variables", "plain", "plain"},
		{"empty", "", ""},
		{"unicode", "héllo {topic} ✓", "héllo Go ✓"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chatflow.FormatTemplate(tc.template, values)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFormatTemplateErrors(t *testing.T) {
	tests := []struct {
		name, template, want string
		exact                bool
	}{
		{"missing variable", "Tell me about {x}", "Please provide Prompt Values for: x", true},
		{"missing after a known one", "{topic} and { other }", "Please provide Prompt Values for: other", true},
		{"unclosed brace", "Hello {name", "unclosed '{' at position 6", false},
		{"unclosed at end", "Hello {", "unclosed '{'", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := chatflow.FormatTemplate(tc.template, map[string]string{"topic": "Go"})
			require.Error(t, err)
			require.True(t, chatflow.IsFlowError(err))
			if tc.exact {
				require.EqualError(t, err, tc.want)
			} else {
				require.Contains(t, err.Error(), tc.want)
			}
		})
	}
}

func TestPromptValues(t *testing.T) {
	v := chatflow.Vars{
		Question: "shoes",
		Vars:     map[string]string{"brand": "Acme"},
		Outputs:  map[string]string{"llmChain_0": "step one"},
	}
	tests := []struct {
		name string
		raw  any
		want map[string]string
	}{
		{"nil", nil, map[string]string{}},
		{"empty string", "", map[string]string{}},
		{"blank string", "  \n", map[string]string{}},
		{"JSON string as exported", `{"product":"{{question}}"}`, map[string]string{"product": "shoes"}},
		{
			"JSON string with node output",
			`{"objective":"{{question}}","result":"{{llmChain_0.data.instance}}"}`,
			map[string]string{"objective": "shoes", "result": "step one"},
		},
		{
			"decoded object",
			map[string]any{"brand": "{{$vars.brand}}", "n": 3.0, "ok": true, "plain": "text"},
			map[string]string{"brand": "Acme", "n": "3", "ok": "true", "plain": "text"},
		},
		{"JSON null", "null", map[string]string{}},
		{"empty object", map[string]any{}, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chatflow.PromptValues(tc.raw, v)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestPromptValuesErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  any
		want string
	}{
		{"not JSON", "product: shoes", "promptValues is not a JSON object"},
		{"JSON array", `["a"]`, "promptValues is not a JSON object"},
		{"JSON string", `"a"`, "promptValues is not a JSON object"},
		{"number", 42.0, "promptValues must be a JSON object, got float64"},
		{"list", []any{"a"}, "promptValues must be a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chatflow.PromptValues(tc.raw, chatflow.Vars{})
			require.Error(t, err)
			require.Nil(t, got)
			require.True(t, chatflow.IsFlowError(err))
			require.True(t, strings.HasPrefix(err.Error(), tc.want), err.Error())
		})
	}
}

func TestPromptTemplateEndToEnd(t *testing.T) {
	// The Prompt Chaining template's second prompt, filled the way the runtime does.
	p := compileFile(t, "marketplace/chatflows/Prompt Chaining.json")
	var node chatflow.Node
	for _, s := range p.Steps {
		if s.Node.ID == "promptTemplate_1" {
			node = s.Node
		}
	}
	require.Equal(t, "promptTemplate_1", node.ID)
	values, err := chatflow.PromptValues(node.Data.Inputs["promptValues"], chatflow.Vars{
		Question: "launch a product",
		Outputs:  map[string]string{"llmChain_0": "1. research"},
	})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"objective": "launch a product", "result": "1. research"}, values)
	template := node.Input("template")
	require.ElementsMatch(t, []string{"objective", "result"}, chatflow.TemplateVariables(template))
	out, err := chatflow.FormatTemplate(template, values)
	require.NoError(t, err)
	require.Contains(t, out, "launch a product")
	require.Contains(t, out, "1. research")
}

// TemplateVariables looked each name up among those before it: 50,000 variables took 2.7 s,
// 100,000 four times that.
func TestTemplateVariablesManyNames(t *testing.T) {
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "{v%d} {v%d}", i, i)
	}
	start := time.Now()
	names := chatflow.TemplateVariables(b.String())
	require.Less(t, time.Since(start), 2*time.Second)
	require.Len(t, names, 100000)
	require.Equal(t, "v99999", names[99999])
}
