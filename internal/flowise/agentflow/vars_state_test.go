package agentflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVarsInitialState(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want map[string]any
	}{
		{"nil", nil, map[string]any{}},
		{"empty text", "", map[string]any{}},
		{"list", []any{
			map[string]any{"key": "next", "value": ""},
			map[string]any{"key": "count", "value": 2.0},
			map[string]any{"key": "next", "value": "later wins"},
		}, map[string]any{"next": "later wins", "count": 2.0}},
		{"JSON text", `[{"key":"a","value":"{{ question }}"}]`, map[string]any{"a": "{{ question }}"}},
		{"typed list", []map[string]string{{"key": "k", "value": "v"}}, map[string]any{"k": "v"}},
		{"no key or no value", []any{
			map[string]any{"value": "orphan"},
			map[string]any{"key": "", "value": "x"},
			map[string]any{"key": "unset"},
		}, map[string]any{}},
	}
	for _, c := range cases {
		got, err := InitialState(c.in)
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
	}
	for _, bad := range []any{"[", `{"key":"a"}`, []any{"a"}, 5} {
		_, err := InitialState(bad)
		require.Error(t, err, "%#v", bad)
	}
}

func TestVarsApplyStateUpdates(t *testing.T) {
	state := map[string]any{"keep": "same", "next": "old", "n": 1.0}
	scope := VarsScope{
		Question: "hello",
		State:    state,
		Outputs:  map[string]any{"llmAgentflow_0": map[string]any{"content": "hi", "usage": map[string]any{"total": 9.0}}},
	}
	updates := []any{
		map[string]any{"key": "next", "value": "<p>{{ question }} and {{ $flow.state.next }}</p>"},
		map[string]any{"key": "tokens", "value": "{{ llmAgentflow_0.output.usage.total }}"},
		map[string]any{"key": "answer", "value": "{{ llmAgentflow_0 }}"},
		map[string]any{"key": "mine", "value": "{{ output.field }}"},
		map[string]any{"key": "n", "value": 5.0},
		map[string]any{"key": "n", "value": "{{ $flow.state.n }}"}, // later wins; sees the old state
		map[string]any{"key": "cleared"},
	}
	got, err := ApplyStateUpdates(state, updates, scope)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"keep":    "same",
		"next":    "hello and old",
		"tokens":  9.0, // a lone output-path reference keeps its type
		"answer":  "hi",
		"mine":    "{{ output.field }}", // left for ApplyOutputToState
		"n":       "1",
		"cleared": nil,
	}, got)
	require.Equal(t, map[string]any{"keep": "same", "next": "old", "n": 1.0}, state, "input unchanged")

	for _, none := range []any{nil, "", []any{}} {
		got, err := ApplyStateUpdates(state, none, scope)
		require.NoError(t, err)
		require.Equal(t, state, got)
	}
	got, err = ApplyStateUpdates(nil, `[{"key":"a","value":"{{ question }}"}]`, scope)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": "hello"}, got)

	_, err = ApplyStateUpdates(state, "not json", scope)
	require.ErrorContains(t, err, "state updates")
}

func TestVarsApplyOutputToState(t *testing.T) {
	state := map[string]any{
		"whole":    "{{ output }}",
		"tight":    "{{output}}",
		"field":    "{{ output.next }}",
		"deep":     "{{output.a.b}}",
		"prefixed": "next is {{ output.next }}", // the whole value is replaced, as in Flowise
		"missing":  "{{ output.nope }}",
		"embedded": "said: {{ output }}!",
		"other":    "plain",
		"number":   4.0,
		"nil":      nil,
	}
	output := `{"next":"REVIEWER","a":{"b":[1,2]}}`
	got := ApplyOutputToState(state, output)
	require.Equal(t, map[string]any{
		"whole":    output,
		"tight":    output,
		"field":    "REVIEWER",
		"deep":     []any{1.0, 2.0},
		"prefixed": "REVIEWER",
		"missing":  "{{ output.nope }}",
		"embedded": "said: " + output + "!",
		"other":    "plain",
		"number":   4.0,
		"nil":      nil,
	}, got)
	require.Equal(t, "{{ output }}", state["whole"], "input unchanged")

	// Output that is not JSON leaves {{ output.path }} alone; non-text output is used as is.
	got = ApplyOutputToState(map[string]any{"f": "{{ output.x }}", "w": "{{ output }}"}, "just text")
	require.Equal(t, map[string]any{"f": "{{ output.x }}", "w": "just text"}, got)
	got = ApplyOutputToState(map[string]any{"f": "{{ output.x }}", "w": "{{ output }}"}, map[string]any{"x": nil})
	require.Equal(t, map[string]any{"f": "{{ output.x }}", "w": map[string]any{"x": nil}}, got)
	require.Empty(t, ApplyOutputToState(nil, "x"))
}
