package jsrun

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
)

// runState is everything one Run owns. Fields marked "VM goroutine" are only
// touched from the goroutine executing JavaScript; the rest are safe to use
// from timers, fetch goroutines and the memory watchdog.
type runState struct {
	vm   *goja.Runtime
	env  Env
	lim  Limits
	caps caps
	ctx  context.Context // cancelled when Run returns

	stopOnce sync.Once
	stopCh   chan struct{} // closed by stop
	stopErr  error         // written before stopCh is closed
	stopped  atomic.Bool
	closed   atomic.Bool // Run returned: host callbacks become no-ops

	tasks    chan func() error // work for the VM goroutine (timer fires, fetch results)
	inflight sync.WaitGroup    // fetch goroutines

	// VM goroutine only.
	pending      int                    // timers and fetches that may still settle a promise
	hostErrs     map[*goja.Object]error // JS error objects standing for Go errors
	joinStack    []*goja.Object         // arrays being joined: cycle detection and nesting bound
	timers       map[int64]*jsTimer
	nextTimerID  int64
	consoleBytes int
	intrinsics   intrinsics
}

func newRunState(ctx context.Context, env Env, lim Limits) *runState {
	return &runState{
		vm:       goja.New(),
		env:      env,
		lim:      lim,
		caps:     lim.caps(),
		ctx:      ctx,
		stopCh:   make(chan struct{}),
		tasks:    make(chan func() error, 16),
		hostErrs: map[*goja.Object]error{},
		timers:   map[int64]*jsTimer{},
	}
}

// stop ends the run with err (the first caller wins). It is safe from any
// goroutine: the interrupt flag makes the VM fail at its next instruction,
// and stopCh wakes the event loop if it is waiting.
func (s *runState) stop(err error) {
	s.stopOnce.Do(func() {
		s.stopErr = err
		s.stopped.Store(true)
		close(s.stopCh)
		s.vm.Interrupt(err)
	})
}

// post hands work to the VM goroutine; it gives up once the run is over so
// that late fetch results cannot block their goroutine forever.
func (s *runState) post(task func() error) {
	select {
	case s.tasks <- task:
	case <-s.stopCh:
	case <-s.ctx.Done():
	}
}
