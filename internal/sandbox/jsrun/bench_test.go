package jsrun

import (
	"context"
	"testing"
)

// BenchmarkRunSmall measures the fixed cost of one Run: a fresh runtime,
// the sandbox lockdown and guards, inputs, a small async body and the
// result conversion.
func BenchmarkRunSmall(b *testing.B) {
	env := Env{
		Vars:  map[string]any{"greeting": "hello"},
		Flow:  map[string]any{"sessionId": "s1", "chatflowId": "cf1"},
		Input: map[string]any{"input": "world"},
	}
	const code = `const parts = [$vars.greeting, $input]; await null; return { text: parts.join(' '), session: $flow.sessionId }`
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(ctx, code, env, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
