package stream

import (
	"context"
	"sync"
	"time"
)

// A chatflow prediction calls its model inside its one workflow task, as a local activity
// (see workflows.Prediction). Temporal's cancellation of the run reaches a local activity
// only when the worker hears of it, at the end of that task or at its next heartbeat: seconds
// late. An abort therefore also travels this way, from the API process that received it to
// whichever worker runs the calls of the run, at once: in memory in one process, and as a
// PostgreSQL notification between processes. It is a shortcut, not the record: the run's
// cancellation in Temporal still decides how the run ends, and reaches the worker later if
// the notification is lost (a connection that is reconnecting).

// Runs are named by their run id, not their workflow id: a chat's next turn is a new run of the
// same workflow id, which an abort of the turn before must not reach.

// Aborter is the API side: it aborts the calls in flight of a run.
type Aborter interface {
	// Abort tells the worker running runID's calls to stop them.
	Abort(ctx context.Context, runID string) error
}

// AbortWatcher is the worker side.
type AbortWatcher interface {
	// WatchAbort returns a channel closed when runID is aborted, and stop, which ends the
	// watch. An abort this process heard within abortMemory before the watch began counts:
	// it may arrive while the run is between two calls.
	WatchAbort(runID string) (aborted <-chan struct{}, stop func())
}

// abortMemory is how long a process remembers an abort it heard, for calls of the run that
// start after it: longer than any run spends between two calls.
const abortMemory = time.Minute

// watchers are the abort watches of one process, and the aborts it heard lately.
type watchers struct {
	mu    sync.Mutex
	m     map[string]map[chan struct{}]struct{}
	heard map[string]time.Time // run id → when its abort was heard
}

func (w *watchers) WatchAbort(runID string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if at, ok := w.heard[runID]; ok && time.Since(at) < abortMemory {
		close(ch)
		return ch, func() {}
	}
	if w.m == nil {
		w.m = map[string]map[chan struct{}]struct{}{}
	}
	if w.m[runID] == nil {
		w.m[runID] = map[chan struct{}]struct{}{}
	}
	w.m[runID][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if set := w.m[runID]; set != nil {
			delete(set, ch)
			if len(set) == 0 {
				delete(w.m, runID)
			}
		}
	}
}

// fire closes the watches of runID, which then end, and remembers the abort.
func (w *watchers) fire(runID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.heard == nil {
		w.heard = map[string]time.Time{}
	}
	for id, at := range w.heard { // aborts are rare: a sweep per abort keeps the memory small
		if now.Sub(at) >= abortMemory {
			delete(w.heard, id)
		}
	}
	w.heard[runID] = now
	for ch := range w.m[runID] {
		close(ch)
	}
	delete(w.m, runID)
}

// watching reports how many runs are watched; tests use it to prove nothing leaks.
func (w *watchers) watching() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}
