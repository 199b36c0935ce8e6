package jsrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// FetchFunc performs an HTTP request for the script's fetch(). The caller
// wires it to a guarded client (see package netguard); the sandbox itself
// has no network access.
type FetchFunc func(ctx context.Context, method, url string, headers map[string]string, body string) (status int, respHeaders map[string]string, respBody string, err error)

// Env is what a script can see. All values cross into JavaScript through a
// JSON round trip, so scripts only ever hold plain JavaScript values.
type Env struct {
	Vars    map[string]any          // $vars
	Flow    map[string]any          // $flow (sessionId, chatId, chatflowId, input, state)
	Input   map[string]any          // each key exposed as $<key> ($input, tool args as $argName)
	Fetch   FetchFunc               // nil: no fetch() and no require('node-fetch')
	Console func(level, msg string) // console.log & co; nil discards
}

// stopGrace is how long Run waits for the VM to unwind after a stop. goja
// only notices interrupts between JavaScript instructions; a built-in still
// running in Go past this is abandoned (it keeps its goroutine until it
// returns, with every host callback disabled).
const stopGrace = 500 * time.Millisecond

// Run executes code as the body of an async function (like Flowise's
// NodeVM wrapper), awaits the returned promise, and converts the result to
// plain Go values: string, float64, bool, map[string]any, []any or nil.
// Each call uses a fresh runtime, so nothing leaks between runs.
func Run(ctx context.Context, code string, env Env, lim Limits) (any, error) {
	return run(ctx, code, env, lim, exportAny)
}

// RunString is Run with Flowise's output convention: strings are returned
// as is, objects and arrays as JSON indented by two spaces, other values
// through String(), undefined as "".
func RunString(ctx context.Context, code string, env Env, lim Limits) (string, error) {
	v, err := run(ctx, code, env, lim, exportText)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

type outcome struct {
	value any
	err   error
}

func run(ctx context.Context, code string, env Env, lim Limits, mode exportMode) (any, error) {
	lim = lim.withDefaults()
	// Compiling happens on the VM goroutine, under the deadline: its cost grows faster than the
	// source for some shapes (a constant chain 1+1+...+1 of 64K terms compiles in 24 s).
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	s := newRunState(ctx, env, lim)
	defer s.close() // after cancel (defers run in reverse), so fetches see it
	defer cancel()
	stopWatch := heapWatcher.watch(lim.MaxMemory, s.stop)
	defer stopWatch()
	stopOnDone := context.AfterFunc(ctx, func() { s.stop(contextError(ctx, lim.Timeout)) })
	defer stopOnDone()

	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if x := recover(); x != nil {
				o = outcome{err: fmt.Errorf("jsrun: internal error in the JavaScript runtime: %v", x)}
			}
			done <- o
		}()
		prg, err := compile(code)
		if err != nil {
			o.err = err
			return
		}
		o.value, o.err = s.execute(prg, mode)
	}()

	select {
	case o := <-done:
		return o.value, o.err
	case <-s.stopCh:
	}
	select {
	case o := <-done:
		return o.value, o.err
	case <-time.After(stopGrace):
		return nil, fmt.Errorf("%w (abandoned: a built-in function did not yield)", s.stopErr)
	}
}

// contextError maps the end of ctx to a sandbox error: the deadline (ours or
// the caller's) is ErrTimeout, cancellation stays a cancellation.
func contextError(ctx context.Context, timeout time.Duration) error {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		return timeoutError("no result within %s", timeout)
	}
	return fmt.Errorf("jsrun: run cancelled: %w", context.Cause(ctx))
}

// execute runs on the VM goroutine from start to finish.
func (s *runState) execute(prg *goja.Program, mode exportMode) (any, error) {
	limitRegexpBacktracking()
	defer s.stopTimers()
	if err := s.install(); err != nil {
		if s.stopErr != nil {
			return nil, s.stopErr
		}
		return nil, err
	}
	v, err := s.vm.RunProgram(prg)
	if err != nil {
		return nil, s.scriptError(err)
	}
	v, err = s.settle(v)
	if err != nil {
		return nil, err
	}
	return s.export(v, mode)
}

// close disables host callbacks once Run returns, and gives in-flight
// fetches (whose context is now cancelled) a moment to finish so that none
// outlives the run for long.
func (s *runState) close() {
	s.closed.Store(true)
	s.stop(timeoutError("run finished"))
	waited := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(stopGrace):
	}
}
