package jsrun

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSandboxRefusesHostAccess(t *testing.T) {
	cases := []struct {
		name, code string
		forbidden  bool   // errors.Is ErrForbidden
		contains   string // in the error message
	}{
		{"require fs", `require('fs').writeFileSync('/tmp/x', 'y')`, true, `require("fs"): modules are not available`},
		{"require child_process", `require('child_process').execSync('id')`, true, "modules are not available"},
		{"process.exit", `process.exit(1)`, false, "process is not defined"},
		{"process.env", `return process.env.HOME`, false, "process is not defined"},
		{"constructor chain", `return this.constructor.constructor('return process')()`, true, "code generation from strings"},
		{"Function global", `return Function('return this')()`, true, "code generation from strings"},
		{"new Function", `return new Function('return 1')()`, true, "code generation from strings"},
		{"eval", `return eval('1 + 1')`, true, "code generation from strings"},
		{"indirect eval", `return (0, eval)('1')`, true, "code generation from strings"},
		{"async function ctor", `return (async () => {}).constructor('return 1')`, true, "code generation from strings"},
		{"generator ctor", `return (function*(){}).constructor('yield 1')`, true, "code generation from strings"},
		{"fn prototype ctor", `return Object.getPrototypeOf(() => 1).constructor('return 1')()`, true, "code generation from strings"},
		{"Reflect.construct Function", `return Reflect.construct(Function, ['return 1'])()`, true, "code generation from strings"},
		{"setTimeout string", `setTimeout('globalThis.x = 1', 0)`, true, "code generation from strings"},
		{"dynamic import", `const fs = await import('fs')`, false, "SyntaxError"},
		{"static import", "import fs from 'fs'\nreturn 1", false, "SyntaxError"},
		{"fetch absent", `return await fetch('http://example.com')`, false, "fetch is not defined"},
		{"require node-fetch absent", `const f = require('node-fetch')`, true, "network access is not available"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), c.code, Env{}, Limits{Timeout: 2 * time.Second})
			require.Error(t, err)
			require.ErrorContains(t, err, c.contains)
			if c.forbidden {
				require.ErrorIs(t, err, ErrForbidden)
			}
		})
	}
}

func TestSandboxGlobalsHoldNoHostObjects(t *testing.T) {
	got, err := Run(context.Background(), `
		const g = globalThis;
		return ['process', 'require', 'module', 'Buffer', 'GoError', '__dirname', 'global']
			.filter(n => n !== 'require' && typeof g[n] !== 'undefined')`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{}, got)

	// The remaining host functions lead nowhere: their constructor is the
	// blocked Function.
	_, err = Run(context.Background(), `return console.log.constructor('return 1')()`, Env{}, Limits{})
	require.ErrorIs(t, err, ErrForbidden)
}

func TestForbiddenErrorsAreCatchable(t *testing.T) {
	got, err := Run(context.Background(), `
		try { require('fs') } catch (e) { return 'caught: ' + e.message }`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, `caught: require("fs"): modules are not available in the sandbox`, got)
}

func TestInstanceofStillWorks(t *testing.T) {
	got, err := Run(context.Background(), `
		class Bytes extends Uint8Array {}
		return [(() => 1) instanceof Function, (async () => 1) instanceof Function, ({}) instanceof Function,
			new Uint8Array(2) instanceof Uint8Array, new Uint8Array(2).slice(1) instanceof Uint8Array,
			new Bytes(2) instanceof Bytes, new Bytes(2) instanceof Uint8Array, new Uint8Array(2) instanceof Bytes,
			new Bytes(4).length, typeof Function.prototype.call]`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{true, true, false, true, true, true, true, false, float64(4), "function"}, got)
}

// goja's parser would read a source map named in a comment from disk.
func TestSourceMapCommentReadsNothing(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "map")
	require.NoError(t, os.WriteFile(fifo, []byte(`{"version":3}`), 0o600))
	for _, target := range []string{"/dev/zero", fifo} {
		start := time.Now()
		got, err := Run(context.Background(), "return 1\n//# sourceMappingURL="+target, Env{}, Limits{Timeout: 2 * time.Second})
		require.NoError(t, err)
		require.Equal(t, float64(1), got)
		require.Less(t, time.Since(start), time.Second)
	}
}

func TestGuardedBuiltinsKeepTheirErrors(t *testing.T) {
	for _, code := range []string{
		`String.prototype.replace.call(null, 'a', 'b')`,
		`String.prototype.repeat.call(undefined, 2)`,
		`'x'.repeat(-1)`,
		`[].flatMap(1)`,
		`Array.prototype.fill.call(null, 0)`,
	} {
		_, err := Run(context.Background(), code, Env{}, Limits{})
		var se *ScriptError
		require.ErrorAs(t, err, &se, code)
		require.Contains(t, []string{"TypeError", "RangeError"}, se.Name, code)
	}
}
