package devserver

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/dynamicconfig"
)

// liveHeap is the Go heap still reachable after full collections.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC() // a second cycle empties the pools' victim caches
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Finished runs leave little of their history in memory: Temporal would keep 8 MiB of recent
// event batches for replication to other clusters, which an embedded server never has. What
// stays is bounded: the shard's events cache (512 KiB) keeps some start and completion events.
func TestFinishedRunsKeepLittleOfTheirHistoryInMemory(t *testing.T) {
	_, c := serverWithWorker(t, filepath.Join(t.TempDir(), "temporal.db"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := strings.Repeat("x", 128<<10)
	runUpper(ctx, t, c, "warm-up", in)
	before := liveHeap()
	const runs = 32 // each writes its input once and its result twice: 12 MiB of history
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
	// Every transfer and visibility task written so far is done once the runs have finished.
	var lastTransfer, lastVisibility int64
	require.NoError(t, db.GetContext(ctx, &lastTransfer, "SELECT coalesce(max(task_id), 0) FROM transfer_tasks"))
	require.NoError(t, db.GetContext(ctx, &lastVisibility, "SELECT coalesce(max(task_id), 0) FROM visibility_tasks"))
	require.Positive(t, lastTransfer+lastVisibility, "the runs wrote queue tasks")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var left int
		err := db.GetContext(ctx, &left, "SELECT (SELECT count(*) FROM transfer_tasks WHERE task_id <= ?) + "+
			"(SELECT count(*) FROM visibility_tasks WHERE task_id <= ?)", lastTransfer, lastVisibility)
		assert.NoError(c, err)
		assert.Zero(c, left, "done tasks still in the database")
	}, 3*queueCheckpointInterval, 100*time.Millisecond)
}

// The timer queue's done tasks are mostly the timeouts of finished runs, deleted only once
// their time has passed, so the test above leaves them out; the timer queue checkpoints as
// often as the other two.
func TestEveryHistoryQueueCheckpointsAsOften(t *testing.T) {
	config := dynamicConfig()
	for _, key := range []dynamicconfig.Key{dynamicconfig.TransferProcessorUpdateAckInterval.Key(),
		dynamicconfig.TimerProcessorUpdateAckInterval.Key(), dynamicconfig.VisibilityProcessorUpdateAckInterval.Key()} {
		require.Equal(t, queueCheckpointInterval, config[key], key)
	}
}
