package api

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/flowgate/flowgate/models"
)

// compiledFlows keeps what each saved flow compiles to, by chatflow id and version, so a hot
// flow is not reparsed on every prediction. An edited flow has a new updatedDate and so a new
// entry. A refusal is kept too: a broken flow, however large, costs one compile per version,
// not one per anonymous request. Concurrent requests for a flow not yet compiled wait for the
// one compile in progress.
type compiledFlows[T any] struct {
	compile func(flowData string) (T, error)
	limit   int

	mu      sync.Mutex
	entries map[flowVersion]*compiledFlow[T]
}

type flowVersion struct {
	id      string
	updated time.Time
}

type compiledFlow[T any] struct {
	done chan struct{} // closed when val and err are set
	val  T
	err  error
}

func newCompiledFlows[T any](limit int, compile func(flowData string) (T, error)) *compiledFlows[T] {
	return &compiledFlows[T]{compile: compile, limit: limit, entries: map[flowVersion]*compiledFlow[T]{}}
}

// get returns what f compiles to; the value is shared and must not be modified.
func (cf *compiledFlows[T]) get(ctx context.Context, f *models.ChatFlow) (T, error) {
	key := flowVersion{f.ID, f.UpdatedDate}
	cf.mu.Lock()
	e, ok := cf.entries[key]
	if !ok {
		if len(cf.entries) >= cf.limit {
			// Flows rarely number in the hundreds; dropping everything is simpler than LRU
			// bookkeeping and costs one recompile per flow.
			clear(cf.entries)
		}
		e = &compiledFlow[T]{done: make(chan struct{})}
		cf.entries[key] = e
		cf.mu.Unlock()
		cf.fill(e, f.FlowData)
		return e.val, e.err
	}
	cf.mu.Unlock()
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("waiting for the flow to compile: %w", ctx.Err())
	}
}

func (cf *compiledFlows[T]) fill(e *compiledFlow[T], flowData string) {
	defer close(e.done)
	defer func() {
		// The parsers are fuzzed never to panic; should one still, its waiters get an error
		// instead of waiting for good.
		if r := recover(); r != nil {
			e.err = fmt.Errorf("compiling the flow: %v", r)
		}
	}()
	e.val, e.err = cf.compile(flowData)
}
