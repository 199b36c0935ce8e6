package logs

import (
	"fmt"
	"sync"
)

// reporter delivers errors to OnError from its own goroutine. Errors arise
// while the Sink (and the slog handler calling it) hold locks; calling
// OnError there would deadlock if it logged, so it is called from here.
type reporter struct {
	ch      chan error
	done    chan struct{}
	mu      sync.Mutex
	closed  bool
	dropped int
}

func newReporter(fn func(error)) *reporter {
	r := &reporter{ch: make(chan error, 64), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for err := range r.ch {
			fn(err)
		}
	}()
	return r
}

// send never blocks; when the queue is full the error is counted and the
// count is reported with the next error that fits.
func (r *reporter) send(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.dropped > 0 {
		select {
		case r.ch <- fmt.Errorf("logs: %d earlier errors not reported", r.dropped):
			r.dropped = 0
		default:
			r.dropped++
			return
		}
	}
	select {
	case r.ch <- err:
	default:
		r.dropped++
	}
}

// close delivers what is queued and stops the goroutine.
func (r *reporter) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.ch)
	r.mu.Unlock()
	<-r.done
}
