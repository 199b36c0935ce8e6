package jsrun

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const slack = 1500 * time.Millisecond

func TestEndlessLoopTimesOut(t *testing.T) {
	for _, code := range []string{
		`while (true) {}`,
		`for (;;) { try { while (true) {} } catch (e) {} }`,
		`const f = () => f; while (true) f()()`,
		`await new Promise(r => setInterval(() => {}, 1))`,
		`while (true) { await null }`,
	} {
		start := time.Now()
		_, err := Run(context.Background(), code, Env{}, Limits{Timeout: 200 * time.Millisecond})
		require.ErrorIs(t, err, ErrTimeout, code)
		require.Less(t, time.Since(start), 200*time.Millisecond+slack, code)
	}
}

func TestNeverSettlingPromise(t *testing.T) {
	start := time.Now()
	_, err := Run(context.Background(), `await new Promise(() => {}); return 1`, Env{}, Limits{Timeout: 5 * time.Second})
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "can never settle")
	require.Less(t, time.Since(start), time.Second, "nothing pending: no need to wait for the deadline")
}

func TestCallerDeadlineIsATimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, `while (true) {}`, Env{}, Limits{Timeout: time.Minute})
	require.ErrorIs(t, err, ErrTimeout)
}

// Native loops goja cannot interrupt: each must still end by the deadline.
func TestUninterruptibleBuiltinsStillStop(t *testing.T) {
	for _, code := range []string{
		`new Set(new Array(1e9))`,
		`for (const x of new Array(1e9)) {}`,
		`[...new Array(5e5).keys()].forEach(() => { while (true) {} })`,
		`/^(a+)+\1$/.test("a".repeat(40) + "b")`,
	} {
		start := time.Now()
		_, err := Run(context.Background(), code, Env{}, Limits{Timeout: 300 * time.Millisecond})
		require.Error(t, err, code)
		require.Less(t, time.Since(start), 300*time.Millisecond+slack, code)
	}
}

func TestStackOverflowIsAnError(t *testing.T) {
	_, err := Run(context.Background(), `const f = () => f() + 1; return f()`, Env{}, Limits{})
	require.ErrorContains(t, err, "Maximum call stack size exceeded")
}

// heapSys is the heap address space obtained from the OS; it (almost)
// never shrinks, so its growth across a run bounds the run's peak heap.
func heapSys() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapSys)
}

// Bombs whose size is known when a built-in is called: refused by the
// guards before anything is allocated.
func TestMemoryBombsRefusedBeforeAllocating(t *testing.T) {
	bombs := []string{
		`return 'x'.repeat(2 ** 30)`,
		`return new Array(1e9).fill(0)`,
		`return Array.from({ length: 1e9 })`,
		`return new Uint8Array(3e9)`,
		`return new ArrayBuffer(2 ** 31)`,
		`return new Float64Array({ length: 1e9 })`,
		`return 'ab'.padStart(2 ** 30)`,
		`return Math.max.apply(null, { length: 1e9 })`,
		`return Reflect.apply(Math.max, null, { length: 1e9 })`,
		`return new Array(1e9).indexOf(1)`,
		`return Array.prototype.sort.call({ length: 2 ** 40 })`,
		`const big = 'x'.repeat(1e6); return Array(2000).fill(big).join('')`,
		`const big = 'x'.repeat(1e6); return Array(100).join(big.repeat(10)).length`,
		`const big = 'x'.repeat(1e6); return Array(100).fill({ toString: () => big }).join('')`,
		`const big = 'x'.repeat(1e5); return big.replaceAll('', big)`,
		`const big = 'x'.repeat(1e5); return big.replace(/x/g, () => big)`,
		`const big = 'x'.repeat(1e4); return big.replace(/x/g, "$'$'")`,
		`let a = [1]; for (let i = 0; i < 40; i++) a = [a, a]; return a.flat(Infinity).length`,
		`let a = ['x'.repeat(1e5)]; for (let i = 0; i < 40; i++) a = [a, a]; return JSON.stringify(a).length`,
		`let a = []; for (let i = 0; i < 1e4; i++) a = [a]; return JSON.stringify(a, null, 10).length`,
		`return ''.concat(...Array(5000).fill('x'.repeat(1e5))).length`,
		`return 'x'.repeat(1e7).split('').length`,
		`return 'x'.repeat(1e7).match(/(?:)/g).length`,
		`return [].concat(...Array(100).fill(new Array(1e6)))`,
		`return [].concat({ length: 1e9, [Symbol.isConcatSpreadable]: true })`,
		`return new Uint8Array(1e6).join('x'.repeat(100))`,
		`return String.raw({ raw: { length: 1e9 } })`,
		`return Object.keys('x'.repeat(1e7)).length`,
		`return Object.assign({}, 'x'.repeat(1e7))`,
		`const big = 'x'.repeat(1e5); return big.replaceAll({ toString: () => '' }, big)`,
		`return Uint8Array.from({ length: 1e9 })`,
		`return new Int32Array(new Array(1e9))`,
	}
	lim := Limits{Timeout: 5 * time.Second, MaxMemory: 64 << 20}
	for _, code := range bombs {
		before := heapSys()
		start := time.Now()
		_, err := Run(context.Background(), code, Env{}, lim)
		require.ErrorIs(t, err, ErrMemory, code)
		require.Less(t, time.Since(start), 2*time.Second, code)
		require.Less(t, heapSys()-before, int64(256<<20), code)
	}
}

// Bombs that grow step by step: stopped by the heap watchdog (or, for slow
// growers, the deadline) long before they reach a gigabyte.
func TestGradualMemoryBombsStopped(t *testing.T) {
	bombs := []struct {
		code  string
		limit int64
	}{
		{`let a = []; while (true) a.push('x'.repeat(1e6))`, 64 << 20},
		{`let a = []; while (true) a.push({ n: a.length, s: 'abc' + a.length })`, 64 << 20},
		{`const parts = []; for (let i = 0; ; i++) parts.push('x'.repeat(1e5) + i)`, 64 << 20},
		{`return [...new Array(1e8)].length`, 64 << 20},
		// One "+" is one uninterruptible instruction, so a doubling loop
		// overshoots by the concatenation in flight when the watchdog fires:
		// several times the limit on a loaded machine. A smaller limit keeps
		// this assertion meaningful.
		{`let s = 'x'; while (true) s += s`, 16 << 20},
	}
	for _, b := range bombs {
		code, lim := b.code, Limits{Timeout: 3 * time.Second, MaxMemory: b.limit}
		before := heapSys()
		start := time.Now()
		_, err := Run(context.Background(), code, Env{}, lim)
		require.Error(t, err, code)
		t.Logf("%-70s %8v heap+%4d MB  %v", code, time.Since(start).Round(time.Millisecond), (heapSys()-before)>>20, err)
		require.True(t, errors.Is(err, ErrMemory) || errors.Is(err, ErrTimeout), "%s: %v", code, err)
		// Stopped, not hung: the deadline, the grace for the VM to unwind, and the slack of a
		// loaded machine. A doubling string copies hundreds of megabytes in one instruction,
		// whose collections delay the runtime's timers by a second or more on 2 busy cores
		// (4.6 s seen in CI), so the bound is the deadline plus twice the slack.
		require.Less(t, time.Since(start), lim.Timeout+2*slack, code)
		require.Less(t, heapSys()-before, int64(1<<30), "%s: heap must stay well under 1 GiB", code)
	}
}

func TestWatchdogReportsPeak(t *testing.T) {
	runtime.GC() // a clean baseline: earlier tests leave garbage behind
	stop := heapWatcher.watch(1<<40, func(error) {})
	buf := make([][]byte, 0, 64)
	for range 64 {
		buf = append(buf, make([]byte, 1<<20))
	}
	require.Eventually(t, func() bool {
		heapWatcher.mu.Lock()
		defer heapWatcher.mu.Unlock()
		for r := range heapWatcher.runs {
			if r.peak > 32<<20 {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
	runtime.KeepAlive(buf)
	require.Greater(t, stop(), uint64(32<<20))
}

func TestDeepNestingIsRefusedNotFatal(t *testing.T) {
	for _, code := range []string{
		`return JSON.parse('['.repeat(1e6) + ']'.repeat(1e6))`,
		`let a = []; for (let i = 0; i < 1e5; i++) a = [a]; return JSON.stringify(a)`,
		`let a = []; for (let i = 0; i < 1e5; i++) a = [a]; return String(a)`,
		`let a = []; for (let i = 0; i < 1e5; i++) a = [a]; return a.flat(Infinity)`,
	} {
		_, err := Run(context.Background(), code, Env{}, Limits{})
		require.Error(t, err, code)
		require.ErrorContains(t, err, "RangeError", code)
	}
}

func TestLegitimateWorkFitsTheLimits(t *testing.T) {
	got, err := Run(context.Background(), `
		const rows = Array.from({ length: 10000 }, (_, i) => ({ id: i, name: 'row ' + i }));
		const csv = rows.map(r => r.id + ',' + r.name).join('\n');
		const words = 'lorem ipsum dolor sit amet '.repeat(2000).split(' ');
		const text = 'a-b-c '.repeat(10000).replace(/-/g, '+').replaceAll('c', '$&$&');
		const parsed = JSON.parse(JSON.stringify({ rows }));
		return [csv.length, words.length, text.length, parsed.rows.length, [[1, [2, [3]]]].flat(Infinity).length,
			'x'.padEnd(5, '-'), [1, 2].concat([3], 4).length, Math.max.apply(null, [1, 5, 2]),
			'a1b2'.replace(/(\d)/g, '<$1>'), 'x'.replace('x', "$'|$&|$$")]`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{float64(137779), float64(10001), float64(70000), float64(10000), float64(3),
		"x----", float64(4), float64(5), "a<1>b<2>", "|x|$"}, got)
}

// BigInt arithmetic is one Go call that no deadline reaches, and goja folds constant
// expressions while compiling, before the deadline is even armed: 3n ** 10n ** 8n ran 16 s past
// a 10 s limit. Literals are refused and no built-in can make a BigInt.
func TestBigIntIsNotAvailable(t *testing.T) {
	for _, code := range []string{
		`return 3n ** 10n ** 8n`,
		"const f = () => { return `${0x10n}` }",
		`return [1, 2, {a: 1n}]`,
	} {
		_, err := Run(context.Background(), code, Env{}, Limits{Timeout: time.Second})
		var se *ScriptError
		require.ErrorAs(t, err, &se, code)
		require.Equal(t, "SyntaxError", se.Name, code)
		require.Contains(t, se.Message, "BigInt is not available", code)
		require.Contains(t, se.Message, ":1:", code, "the message says where")
	}
	for _, code := range []string{
		`return BigInt(2) ** BigInt(1e9)`,
		`return new BigInt64Array(1)[0]`,
		`return new BigUint64Array(1)[0]`,
		`return new DataView(new ArrayBuffer(8)).getBigInt64(0)`,
		`return new DataView(new ArrayBuffer(8)).getBigUint64(0)`,
	} {
		_, err := Run(context.Background(), code, Env{}, Limits{Timeout: time.Second})
		var se *ScriptError
		require.ErrorAs(t, err, &se, code)
		require.Contains(t, []string{"ReferenceError", "TypeError"}, se.Name, code)
	}
	// The word itself, in strings and names, is fine.
	out, err := Run(context.Background(), `const BigIntish = "10n"; return BigIntish + typeof 10`, Env{}, Limits{Timeout: time.Second})
	require.NoError(t, err)
	require.Equal(t, "10nnumber", out)
}

// The parser and compiler recurse on the Go stack once per level of nesting, and a Go stack
// past its limit ends the process: 65,000 nested parentheses took 224 MB of stack, as many
// nested brackets minutes of CPU. Deep nesting and oversized code are refused before parsing.
func TestDeepNestingIsRefusedBeforeParsing(t *testing.T) {
	deep := func(open, close string, n int) string {
		return "return " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, code := range []string{
		deep("(", ")", 65000),
		deep("[", "]", 65000),
		deep("{a:", "}", 20000),
		deep("`${", "}`", 20000),
		"return 1 //" + strings.Repeat("x", maxSource),
		// A comment ends at any line terminator, not only at a newline.
		"//x\r" + deep("[", "]", 20000),
		"//x\u2028" + deep("[", "]", 20000),
		"//x\u2029" + deep("(", ")", 20000),
	} {
		_, err := Run(context.Background(), code, Env{}, Limits{Timeout: time.Second})
		var se *ScriptError
		require.ErrorAs(t, err, &se, code[:20])
		require.Equal(t, "SyntaxError", se.Name)
		require.Regexp(t, "nests more than 256 levels|at most 131072 are allowed", se.Message)
	}
	// Brackets in strings, comments and template text do not count; real nesting up to the
	// bound runs.
	noise := strings.Repeat("(", 1000)
	out, err := Run(context.Background(), "// "+noise+"\n/* "+noise+" */ const s = '"+noise+"' + \""+noise+"\" + `"+noise+"${'('}`;\n"+
		deep("(", ")", 200)+" + s.length", Env{}, Limits{Timeout: 5 * time.Second})
	require.NoError(t, err)
	require.EqualValues(t, 3002, out)
}

// A constant chain compiles in time that grows faster than its length; compiling happens
// under the run's deadline, so Run still answers by it.
func TestCompilingIsUnderTheDeadline(t *testing.T) {
	code := "return " + strings.Repeat("1+", 30000) + "1"
	start := time.Now()
	_, err := Run(context.Background(), code, Env{}, Limits{Timeout: 300 * time.Millisecond})
	require.ErrorIs(t, err, ErrTimeout)
	require.Less(t, time.Since(start), 300*time.Millisecond+slack)
}
