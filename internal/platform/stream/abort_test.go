package stream

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// aborted reports whether ch is closed.
func aborted(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestLocalAbortReachesTheRunsWatchesOnly: an abort ends every watch of its run at once and no
// other run's; a stopped watch is forgotten.
func TestLocalAbortReachesTheRunsWatchesOnly(t *testing.T) {
	b := NewLocal()
	a1, stop1 := b.WatchAbort("run-1")
	a2, stop2 := b.WatchAbort("run-1")
	other, stopOther := b.WatchAbort("run-2")
	require.NoError(t, b.Abort(context.Background(), "run-1"))
	require.True(t, aborted(a1))
	require.True(t, aborted(a2))
	require.False(t, aborted(other))
	stop1()
	stop2() // after the abort: harmless
	stopOther()
	require.Zero(t, b.watching())
	require.NoError(t, b.Abort(context.Background(), "run-2"), "an abort nobody watches is no error")

	// A call of an aborted run that starts after the abort (the run was between two calls)
	// is aborted at once; another run's is not.
	late, stopLate := b.WatchAbort("run-1")
	defer stopLate()
	require.True(t, aborted(late))
	fresh, stopFresh := b.WatchAbort("run-3")
	defer stopFresh()
	require.False(t, aborted(fresh))
}

// TestPostgresAbortReachesAWorkerProcess: an API process's abort reaches a worker process's
// watch (a broker that reads no streams), and no other run's.
func TestPostgresAbortReachesAWorkerProcess(t *testing.T) {
	dsn := newTestDatabase(t)
	api := newPostgres(t, dsn)
	worker, err := NewPostgres(context.Background(), dsn, false, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(worker.Close)

	ch, stop := worker.WatchAbort("run-1")
	defer stop()
	other, stopOther := worker.WatchAbort("run-2")
	defer stopOther()
	// The worker's LISTEN starts in the background: abort until it hears.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for !aborted(ch) {
		require.NoError(t, api.Abort(context.Background(), "run-1"))
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline:
			t.Fatal("the worker never heard the abort")
		}
	}
	require.False(t, aborted(other))
}
