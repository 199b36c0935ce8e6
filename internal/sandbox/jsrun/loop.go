package jsrun

import (
	"github.com/dop251/goja"
)

// settle is the event loop: it runs timer callbacks and fetch completions
// on the VM goroutine until the script's promise settles or the run stops.
// goja drains the microtask queue itself whenever a call into it returns.
func (s *runState) settle(v goja.Value) (goja.Value, error) {
	p, ok := v.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	for {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			return p.Result(), nil
		case goja.PromiseStateRejected:
			return nil, s.rejection(p.Result(), nil)
		}
		if s.pending == 0 {
			// Nothing left can resolve it: waiting for the deadline would
			// only burn the caller's time.
			return nil, timeoutError("the script awaits a promise that can never settle")
		}
		select {
		case task := <-s.tasks:
			if err := task(); err != nil {
				return nil, s.scriptError(err)
			}
		case <-s.stopCh:
			return nil, s.stopErr
		}
	}
}
