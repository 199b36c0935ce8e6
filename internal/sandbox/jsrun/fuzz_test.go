package jsrun

import (
	"strings"
	"testing"
)

// FuzzCompile checks that no source makes the bounds check or goja's parser and compiler panic
// or take the process down, and that every refusal is a SyntaxError the flow's author can read.
// Code reaches the compiler from flow authors and, through the calculator, from models.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`return 1 + 1`,
		"const s = `a${`b${1}`}c`; return s",
		`return [1, {a: (2)}].map(x => x)`,
		`// (((` + "\n" + `/* [[[ */ return '((('`,
		`return /[(]/.test("(")`,
		`return 3n ** 10n ** 8n`,
		strings.Repeat("(", 300) + strings.Repeat(")", 300),
		"`${",
		`return "unterminated`,
		`}}}}]]]))) return 1`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		_, err := compile(code)
		if err == nil {
			return
		}
		se, ok := err.(*ScriptError)
		if !ok || se.Name != "SyntaxError" {
			t.Fatalf("compile(%q): %v is not a SyntaxError", code, err)
		}
	})
}
