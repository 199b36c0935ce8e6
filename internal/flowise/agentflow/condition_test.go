package agentflow

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expectations below were checked against Flowise's Condition node logic run in Node.js
// (remove-markdown 0.6.2, parseFloat, Number, RegExp).
func TestConditionEvalString(t *testing.T) {
	cases := []struct {
		op, v1, v2 string
		want       bool
	}{
		{"equal", "SOFTWARE", "SOFTWARE", true},
		{"equal", "software", "SOFTWARE", false},    // case-sensitive
		{"equal", " SOFTWARE", "SOFTWARE", false},   // no trimming
		{"equal", "**SOFTWARE**", "SOFTWARE", true}, // markdown removed first
		{"equal", "- SOFTWARE", "SOFTWARE", true},   // list marker removed
		{"equal", "# SOFTWARE", "SOFTWARE", true},   // heading removed
		{"equal", "", "", true},
		{"notEqual", "a", "b", true},
		{"notEqual", "a", "a", false},
		{"contains", "hello world", "lo w", true},
		{"contains", "hello", "", true},
		{"contains", "hello", "HELLO", false},
		{"notContains", "hello", "x", true},
		{"notContains", "hello", "ell", false},
		{"startsWith", "hello", "he", true},
		{"startsWith", "hello", "", true},
		{"startsWith", "hello", "lo", false},
		{"endsWith", "hello", "lo", true},
		{"endsWith", "hello", "he", false},
		{"regex", "order #123", `#\d+`, true}, // searched anywhere, JavaScript syntax
		{"regex", "abc", "^b", false},
		{"regex", "ABC", "abc", false},        // no flags
		{"regex", "aa", `(a)\1`, true},        // backreferences work
		{"regex", "abc", "[", false},          // invalid pattern: false, not an error
		{"regex", "abc", "", true},            // empty pattern matches
		{"regex", "**bold**", "^bold$", true}, // value1 is markdown-stripped…
		{"regex", "plain", "<b>", true},       // …and so is the pattern: "<b>" becomes ""
		{"isEmpty", "", "", true},
		{"isEmpty", " ", "", false},
		{"isEmpty", "**", "", false}, // remove-markdown keeps a lone "**"
		{"notEmpty", "x", "", true},
		{"notEmpty", "", "", false},
		{"larger", "10", "9", true}, // Number(text); string type may use number operations too
		{"larger", "10abc", "9", false},
		{"smallerEqual", "", "0", true},
		{"largerEqual", "0x10", "16", true},
	}
	for _, c := range cases {
		got, err := EvalCondition(Condition{Type: ConditionString, Value1: c.v1, Operation: c.op, Value2: c.v2})
		require.NoError(t, err, "%s(%q, %q)", c.op, c.v1, c.v2)
		require.Equal(t, c.want, got, "%s(%q, %q)", c.op, c.v1, c.v2)
	}
}

func TestConditionEvalNumber(t *testing.T) {
	cases := []struct {
		op, v1, v2 string
		want       bool
	}{
		{"equal", "3", "3.0", true},
		{"equal", "3", " 3 ", true},
		{"equal", "12abc", "12", true}, // parseFloat reads the leading number
		{"equal", "abc", "0", true},    // unparsable is 0
		{"equal", "", "0", true},
		{"equal", "1e3", "1000", true},
		{"equal", "1e", "1", true},
		{"equal", ".5", "0.5", true},
		{"equal", "0x1A", "0", true}, // parseFloat does not read hex
		{"equal", "Infinity", "1e400", true},
		{"equal", "0.1", "0.10000000000000001", true},
		{"notEqual", "1", "2", true},
		{"notEqual", "2", "2", false},
		{"smaller", "-1", "0", true},
		{"smaller", "2", "10", true}, // numeric, not lexical
		{"smallerEqual", "2", "2", true},
		{"larger", "10", "9", true},
		{"larger", "9", "9", false},
		{"largerEqual", "9", "9", true},
		{"largerEqual", "8.99", "9", false},
		{"isEmpty", "", "", false}, // the value is already the number 0
		{"notEmpty", "", "", true},
		{"contains", "123", "2", true},
		{"contains", "10", "0", true},
		{"contains", "5", "0", true}, // (0 || '') is "": every text contains ""
		{"regex", "42", "2", true},
		{"regex", "42", `^4\d$`, false}, // the pattern is parseFloat'ed too: /0/
	}
	for _, c := range cases {
		got, err := EvalCondition(Condition{Type: ConditionNumber, Value1: c.v1, Operation: c.op, Value2: c.v2})
		require.NoError(t, err, "%s(%q, %q)", c.op, c.v1, c.v2)
		require.Equal(t, c.want, got, "%s(%q, %q)", c.op, c.v1, c.v2)
	}

	_, err := EvalCondition(Condition{Type: ConditionNumber, Value1: "1", Operation: "startsWith", Value2: "1"})
	require.Error(t, err, "a number has no startsWith in Flowise either")
}

func TestConditionEvalBoolean(t *testing.T) {
	cases := []struct {
		op, v1, v2 string
		want       bool
	}{
		{"equal", "true", "true", true},
		{"equal", "true", "false", false},
		{"equal", "**true**", "true", false}, // no markdown removal for booleans
		{"notEqual", "true", "false", true},
		{"notEqual", "false", "false", false},
		{"isEmpty", "", "", true},
		{"notEmpty", "false", "", true},
	}
	for _, c := range cases {
		got, err := EvalCondition(Condition{Type: ConditionBoolean, Value1: c.v1, Operation: c.op, Value2: c.v2})
		require.NoError(t, err, "%s(%q, %q)", c.op, c.v1, c.v2)
		require.Equal(t, c.want, got, "%s(%q, %q)", c.op, c.v1, c.v2)
	}
}

func TestConditionUnknownOperation(t *testing.T) {
	for _, typ := range []string{ConditionString, ConditionNumber, ConditionBoolean, ""} {
		_, err := EvalCondition(Condition{Type: typ, Operation: "matches"})
		require.ErrorIs(t, err, ErrUnknownOperation)
	}
	// A missing type is a string condition.
	ok, err := EvalCondition(Condition{Value1: "**x**", Operation: "equal", Value2: "x"})
	require.NoError(t, err)
	require.True(t, ok)
}

func TestConditionParse(t *testing.T) {
	want := []Condition{
		{Type: "string", Value1: "a", Operation: "equal", Value2: "b"},
		{Type: "number", Value1: "5", Operation: "larger", Value2: "0"},
		{Type: "boolean", Value1: "true", Operation: "equal", Value2: "false"},
		{Type: "string", Value1: "", Operation: "isEmpty", Value2: ""},
	}
	raw := []any{
		map[string]any{"type": "string", "value1": "a", "operation": "equal", "value2": "b"},
		map[string]any{"type": "number", "value1": 5.0, "operation": "larger", "value2": 0},
		map[string]any{"type": "boolean", "value1": true, "operation": "equal", "value2": false},
		map[string]any{"type": "string", "value1": nil, "operation": "isEmpty"},
	}
	got, err := ParseConditions(raw)
	require.NoError(t, err)
	require.Equal(t, want, got)

	got, err = ParseConditions(`[{"type":"string","value1":"a","operation":"equal","value2":"b"},
		{"type":"number","value1":5,"operation":"larger","value2":0},
		{"type":"boolean","value1":true,"operation":"equal","value2":false},
		{"type":"string","operation":"isEmpty"}]`)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// Typed Go slices are accepted too.
	got, err = ParseConditions([]map[string]any{{"type": "string", "value1": "x", "operation": "equal", "value2": "x"}})
	require.NoError(t, err)
	require.Equal(t, []Condition{{Type: "string", Value1: "x", Operation: "equal", Value2: "x"}}, got)

	got, err = ParseConditions([]any{})
	require.NoError(t, err)
	require.Empty(t, got)

	for _, bad := range []any{nil, "", "{", map[string]any{}, []any{"x"}, 3} {
		_, err := ParseConditions(bad)
		require.Error(t, err, "%#v", bad)
	}
}

func TestConditionChooseBranches(t *testing.T) {
	eq := func(a, b string) Condition {
		return Condition{Type: ConditionString, Value1: a, Operation: "equal", Value2: b}
	}
	cases := []struct {
		name  string
		conds []Condition
		want  []int
	}{
		{"first fulfilled only", []Condition{eq("a", "b"), eq("x", "x"), eq("y", "y")}, []int{1}},
		{"first", []Condition{eq("x", "x"), eq("x", "x")}, []int{0}},
		{"else", []Condition{eq("a", "b"), eq("c", "d")}, []int{2}},
		{"no conditions: else is output 0", nil, []int{0}},
	}
	for _, c := range cases {
		got, err := ChooseBranches(c.conds)
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
	}

	// Conditions after the first fulfilled one are never evaluated.
	got, err := ChooseBranches([]Condition{eq("x", "x"), {Operation: "bogus"}})
	require.NoError(t, err)
	require.Equal(t, []int{0}, got)

	_, err = ChooseBranches([]Condition{eq("a", "b"), {Operation: "bogus"}})
	require.ErrorIs(t, err, ErrUnknownOperation)
	require.ErrorContains(t, err, "condition 1")
}

func TestConditionParseFloatAndNumber(t *testing.T) {
	floats := map[string]float64{
		"": 0, "abc": 0, "  -2.5kg": -2.5, "+4": 4, "5.": 5, "-.5e-3": -0.0005, "1e": 1,
		"1.2.3": 1.2, "0x10": 0, "\u00a0 7": 7, "NaN": 0,
	}
	for in, want := range floats {
		require.Equal(t, want, condParseFloat(in), "parseFloat(%q)", in)
	}
	numbers := map[string]float64{
		"": 0, "  12 ": 12, "0x1A": 26, "0b11": 3, "0o17": 15, "1e3": 1000, "-Infinity": math.Inf(-1),
	}
	for in, want := range numbers {
		require.Equal(t, want, condToNumber(in), "Number(%q)", in)
	}
	for _, in := range []string{"12abc", "-0x1", "1 2", "abc"} {
		require.True(t, math.IsNaN(condToNumber(in)), "Number(%q) is NaN", in)
	}
}
