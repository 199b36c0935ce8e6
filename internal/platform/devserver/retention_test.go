package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// upperQueue is the task queue of serverWithWorker's worker.
const upperQueue = "upper"

// serverWithWorker starts the embedded server on file and a worker of the "upper" workflow,
// which upper-cases its input in a local activity, as a chatflow prediction runs its model
// call.
func serverWithWorker(t *testing.T, file string) (*Server, client.Client) {
	srv, err := Start(Options{DatabaseFile: file, UIPort: -1, Namespace: "default"})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default", Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	w := worker.New(c, upperQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, s string) (string, error) {
		ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		var out string
		upper := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
		err := workflow.ExecuteLocalActivity(ctx, upper, s).Get(ctx, &out)
		return out, err
	}, workflow.RegisterOptions{Name: "upper"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return srv, c
}

// runUpper runs the "upper" workflow as id on in, started eagerly as Flowgate starts a
// prediction, and returns its result.
func runUpper(ctx context.Context, t *testing.T, c client.Client, id, in string) string {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: upperQueue, EnableEagerStart: true}, "upper", in)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	return out
}

// liveHeap is the Go heap still reachable after full collections.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC() // a second cycle empties the pools' victim caches
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The server keeps no copy of the history its runs wrote once they have finished: Temporal
// would keep 8 MiB of recent event batches for replication to other clusters, which an
// embedded server never has.
func TestFinishedRunsLeaveNoHistoryInMemory(t *testing.T) {
	_, c := serverWithWorker(t, filepath.Join(t.TempDir(), "temporal.db"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := strings.Repeat("x", 128<<10)
	runUpper(ctx, t, c, "warm-up", in)
	before := liveHeap()
	const runs = 32 // each writes its input and its result twice: 24 MiB of history
	for i := range runs {
		require.Len(t, runUpper(ctx, t, c, fmt.Sprint("chat-", i), in), len(in))
	}
	kept := int64(liveHeap()) - int64(before)
	t.Logf("heap kept after %d finished runs: %d bytes", runs, kept)
	require.Less(t, kept, int64(3<<20))
}

// A history queue lets go of its done tasks at its checkpoint, in memory and in the
// database, where they are deleted by range: within seconds, not the default half minute.
func TestDoneQueueTasksLeaveTheDatabaseWithinSeconds(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.db")
	_, c := serverWithWorker(t, file)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 5 {
		runUpper(ctx, t, c, fmt.Sprint("chat-", i), "hello")
	}
	db, err := sqlx.Open("sqlite", readerURL(file))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	// Every task written so far is done once its run has finished (the runs' timeout timers
	// are not, so timer tasks are left out).
	var last struct{ Transfer, Visibility int64 }
	require.NoError(t, db.GetContext(ctx, &last.Transfer, "SELECT coalesce(max(task_id), 0) FROM transfer_tasks"))
	require.NoError(t, db.GetContext(ctx, &last.Visibility, "SELECT coalesce(max(task_id), 0) FROM visibility_tasks"))
	require.Positive(t, last.Transfer+last.Visibility, "the runs wrote queue tasks")
	left := func() int {
		var n int
		require.NoError(t, db.GetContext(ctx, &n, "SELECT (SELECT count(*) FROM transfer_tasks WHERE task_id <= ?) + "+
			"(SELECT count(*) FROM visibility_tasks WHERE task_id <= ?)", last.Transfer, last.Visibility))
		return n
	}
	require.Eventually(t, func() bool { return left() == 0 }, 3*queueCheckpointInterval, 100*time.Millisecond,
		"done tasks still in the database after three checkpoints")
}
