package jsrun

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEnvGlobalsVisible(t *testing.T) {
	env := Env{
		Vars:  map[string]any{"apiBase": "https://api.example", "retries": 3},
		Flow:  map[string]any{"sessionId": "s1", "chatflowId": "cf", "state": map[string]any{"count": 2}},
		Input: map[string]any{"input": "hi", "city": "Paris", "$days": 5},
	}
	got, err := Run(context.Background(), `
		return [$vars.apiBase, $vars.retries, $flow.sessionId, $flow.state.count, $input, $city, $days]`, env, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{"https://api.example", float64(3), "s1", float64(2), "hi", "Paris", float64(5)}, got)

	got, err = Run(context.Background(), `return [typeof $vars, typeof $flow, Object.keys($vars).length]`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{"object", "object", float64(0)}, got, "$vars and $flow always exist")
}

func TestEnvValuesArePlainJavaScript(t *testing.T) {
	type secret struct{ Token string }
	env := Env{Input: map[string]any{"obj": secret{Token: "t"}, "list": []int{1, 2}}}
	got, err := Run(context.Background(), `
		return [Object.getPrototypeOf($obj) === Object.prototype, Array.isArray($list),
		        Object.keys($obj).join(), typeof $obj.constructor.constructor]`, env, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{true, true, "Token", "function"}, got)
}

func TestEnvInvalidInputs(t *testing.T) {
	_, err := Run(context.Background(), `return 1`, Env{Input: map[string]any{"not-an-ident": 1}}, Limits{})
	require.ErrorContains(t, err, "not a valid JavaScript identifier")
	_, err = Run(context.Background(), `return 1`, Env{Input: map[string]any{"ch": make(chan int)}}, Limits{})
	require.ErrorContains(t, err, "not JSON-serialisable")
}

func TestAsyncAwait(t *testing.T) {
	got, err := Run(context.Background(), `
		const wait = (ms, v) => new Promise(r => setTimeout(() => r(v), ms));
		const a = await wait(5, 20);
		const b = await Promise.all([wait(1, 1), Promise.resolve(1)]);
		return a + b[0] + b[1];`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, float64(22), got)
}

func TestTimersIntervalAndClear(t *testing.T) {
	got, err := Run(context.Background(), `
		let n = 0;
		const never = setTimeout(() => { n = 1000 }, 1);
		clearTimeout(never);
		await new Promise(resolve => {
			const id = setInterval(() => { if (++n === 3) { clearInterval(id); resolve() } }, 1);
		});
		return n;`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, float64(3), got)
}

func TestThrownErrorsSurface(t *testing.T) {
	_, err := Run(context.Background(), "const x = 1;\nthrow new TypeError('bad input: ' + x)", Env{}, Limits{})
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "TypeError", se.Name)
	require.Equal(t, "bad input: 1", se.Message)
	require.Equal(t, "custom-function.js:2:7", se.Location)
	require.Contains(t, err.Error(), "TypeError: bad input: 1")

	_, err = Run(context.Background(), `await Promise.reject(new Error("async boom"))`, Env{}, Limits{})
	require.ErrorContains(t, err, "Error: async boom")

	_, err = Run(context.Background(), `throw "just a string"`, Env{}, Limits{})
	require.ErrorAs(t, err, &se)
	require.Equal(t, "Uncaught", se.Name)
	require.Equal(t, "just a string", se.Message)

	_, err = Run(context.Background(), `throw { code: 42 }`, Env{}, Limits{})
	require.ErrorAs(t, err, &se)
	require.Equal(t, `{"code":42}`, se.Message)
}

func TestSyntaxErrorHasLine(t *testing.T) {
	_, err := Run(context.Background(), "const a = 1;\nconst b = ;\nreturn a", Env{}, Limits{})
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "SyntaxError", se.Name)
	require.Contains(t, se.Message, "Line 2:")
}

func TestConsole(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	env := Env{Console: func(level, msg string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, level+": "+msg)
	}}
	_, err := Run(context.Background(), `
		console.log("a", 1, {b: 2}, [3], null, undefined);
		console.error(new Error("e"));
		console.warn(() => 1);`, env, Limits{})
	require.NoError(t, err)
	require.Len(t, lines, 3)
	require.Equal(t, `log: a 1 {"b":2} [3] null undefined`, lines[0])
	require.Contains(t, lines[1], "error: Error: e")
	require.Equal(t, "warn: [Function]", lines[2])
}

func TestConsoleIsBounded(t *testing.T) {
	var total int
	env := Env{Console: func(_, msg string) { total += len(msg) }}
	_, err := Run(context.Background(), `for (let i = 0; i < 1000; i++) console.log("x".repeat(1000))`, env, Limits{MaxOutput: 10000})
	require.NoError(t, err)
	require.Less(t, total, 5*10000)
}

func TestOutputLimit(t *testing.T) {
	_, err := Run(context.Background(), `return "x".repeat(2000)`, Env{}, Limits{MaxOutput: 1000})
	require.ErrorIs(t, err, ErrOutputTooLarge)
	_, err = RunString(context.Background(), `return {s: "x".repeat(2000)}`, Env{}, Limits{MaxOutput: 1000})
	require.ErrorIs(t, err, ErrOutputTooLarge)
	got, err := Run(context.Background(), `return "x".repeat(1000)`, Env{}, Limits{MaxOutput: 1000})
	require.NoError(t, err)
	require.Len(t, got, 1000)
}

func TestCyclicResultIsAnError(t *testing.T) {
	_, err := Run(context.Background(), `const a = {}; a.self = a; return a`, Env{}, Limits{})
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "TypeError", se.Name)
}

func TestFreshRuntimePerRun(t *testing.T) {
	_, err := Run(context.Background(), `globalThis.leak = 1; Array.prototype.evil = 1; Object.prototype.polluted = true`, Env{}, Limits{})
	require.NoError(t, err)
	got, err := Run(context.Background(), `return [typeof leak, [].evil, ({}).polluted]`, Env{}, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{"undefined", nil, nil}, got)
}

func TestHostPanicIsRecovered(t *testing.T) {
	env := Env{Console: func(string, string) { panic("host bug") }}
	_, err := Run(context.Background(), `console.log("boom")`, env, Limits{})
	require.ErrorContains(t, err, "host bug")
}

func TestCallerCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, `while (true) {}`, Env{}, Limits{})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, ErrTimeout))
}

func TestConcurrentRuns(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := Run(context.Background(), `await null; return $n * 2`, Env{Input: map[string]any{"n": i}}, Limits{Timeout: 5 * time.Second})
			if err == nil && got != float64(i*2) {
				err = errors.New("wrong result")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
