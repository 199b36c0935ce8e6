package jsrun

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func runCode(t *testing.T, code string) (any, error) {
	t.Helper()
	return Run(context.Background(), code, Env{}, Limits{Timeout: 5 * time.Second})
}

func TestRunReturnValues(t *testing.T) {
	cases := []struct {
		code string
		want any
	}{
		{`return "hello"`, "hello"},
		{`return 42`, float64(42)},
		{`return 1.5`, 1.5},
		{`return true`, true},
		{`return null`, nil},
		{`return undefined`, nil},
		{``, nil},
		{`return {a: 1, b: [1, "x", null], c: {d: false}}`, map[string]any{"a": float64(1), "b": []any{float64(1), "x", nil}, "c": map[string]any{"d": false}}},
		{`return [1, 2, 3]`, []any{float64(1), float64(2), float64(3)}},
		{`return () => 1`, nil},
		{`return {toJSON() { return "custom" }}`, "custom"},
		{`return new Date(0)`, "1970-01-01T00:00:00.000Z"},
		{`return "é\u{1F600}"`, "é😀"},
	}
	for _, c := range cases {
		got, err := runCode(t, c.code)
		require.NoError(t, err, c.code)
		require.Equal(t, c.want, got, c.code)
	}
}

func TestRunStringFollowsFlowise(t *testing.T) {
	cases := []struct{ code, want string }{
		{`return "plain"`, "plain"},
		{`return {a: 1}`, "{\n  \"a\": 1\n}"},
		{`return [1]`, "[\n  1\n]"},
		{`return 42`, "42"},
		{`return 0.1 + 0.2`, "0.30000000000000004"},
		{`return false`, "false"},
		{`return null`, "null"},
		{`return undefined`, ""},
	}
	for _, c := range cases {
		got, err := RunString(context.Background(), c.code, Env{}, Limits{})
		require.NoError(t, err, c.code)
		require.Equal(t, c.want, got, c.code)
	}
}
