package devserver

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumsspb "go.temporal.io/server/api/enums/v1"
	persistencespb "go.temporal.io/server/api/persistence/v1"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/persistence/serialization"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/primitives"
)

// timerFixture is a state database with a closed run, a running run, and timers of both (and
// of a run that is not there), some of which fire for nothing.
type timerFixture struct {
	plain, prepared sqlplugin.DB
	shard           int32
	due             time.Time // after every timer but the last
	// ids are every timer's task id in fire order; noOps those that fire for nothing.
	ids   []int64
	noOps map[int64]bool
}

func newTimerFixture(t *testing.T) timerFixture {
	t.Helper()
	ctx := context.Background()
	plain, prepared := stateDBs(t)
	serializer := serialization.NewSerializer()
	namespace := primitives.NewUUID()
	closed := runKey{shard: 1, namespace: namespace, workflow: "closed", run: primitives.NewUUID()}
	running := runKey{shard: 1, namespace: namespace, workflow: "running", run: primitives.NewUUID()}
	for _, r := range []struct {
		k     runKey
		state enumsspb.WorkflowExecutionState
	}{{closed, enumsspb.WORKFLOW_EXECUTION_STATE_COMPLETED}, {running, enumsspb.WORKFLOW_EXECUTION_STATE_RUNNING}} {
		k := r.k
		blob, err := serializer.WorkflowExecutionStateToBlob(&persistencespb.WorkflowExecutionState{RunId: k.run.String(), State: r.state})
		require.NoError(t, err)
		_, err = plain.InsertIntoExecutions(ctx, &sqlplugin.ExecutionsRow{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, NextEventID: 4, Data: []byte("info"), DataEncoding: "Proto3",
			State: blob.Data, StateEncoding: blob.EncodingType.String()})
		require.NoError(t, err)
	}
	missing := runKey{shard: 1, namespace: namespace, workflow: "missing", run: primitives.NewUUID()}

	timers := []struct {
		run   runKey
		kind  enumsspb.TaskType
		noOp  bool
		plain []byte // a blob that is not a timer, instead of one
	}{
		{run: running, kind: enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT},
		{run: closed, kind: enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, noOp: true},
		{run: closed, kind: enumsspb.TASK_TYPE_ACTIVITY_TIMEOUT, noOp: true},
		{run: closed, kind: enumsspb.TASK_TYPE_DELETE_HISTORY_EVENT}, // retention: deletes the run
		{run: closed, kind: enumsspb.TASK_TYPE_USER_TIMER},
		{run: missing, kind: enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT},
		{run: closed, kind: enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, plain: []byte{0xff, 0xff}},
		{run: closed, kind: enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, noOp: true},
		{run: running, kind: enumsspb.TASK_TYPE_ACTIVITY_TIMEOUT},
		{run: closed, kind: enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT, noOp: true},
		{run: running, kind: enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT},
		{run: closed, kind: enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, noOp: true}, // the last, two minutes ahead
	}
	f := timerFixture{plain: plain, prepared: prepared, shard: 1, noOps: map[int64]bool{}}
	first := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	for i, timer := range timers {
		blob, err := serializer.TimerTaskInfoToBlob(&persistencespb.TimerTaskInfo{NamespaceId: timer.run.namespace.String(),
			WorkflowId: timer.run.workflow, RunId: timer.run.run.String(), TaskType: timer.kind, TaskId: int64(100 + i)})
		require.NoError(t, err)
		if timer.plain != nil {
			blob.Data = timer.plain
		}
		// Two timers share each fire time, so a page can end between them.
		at := first.Add(time.Duration(i/2) * time.Second)
		if i == len(timers)-1 {
			at = time.Now().Add(2 * time.Minute).UTC().Truncate(time.Millisecond)
			f.due = time.Now().UTC()
		}
		id := int64(100 + i)
		_, err = plain.InsertIntoTimerTasks(ctx, []sqlplugin.TimerTasksRow{{ShardID: f.shard, VisibilityTimestamp: at,
			TaskID: id, Data: blob.Data, DataEncoding: blob.EncodingType.String()}})
		require.NoError(t, err)
		f.ids = append(f.ids, id)
		if timer.noOp {
			f.noOps[id] = true
		}
	}
	return f
}

// readTimers reads [min, max) page by page as the server's SQL store does, and returns the
// task ids read and the length of every page.
func readTimers(t *testing.T, db sqlplugin.DB, shard int32, min, max time.Time, pageSize int) (ids []int64, pages []int) {
	t.Helper()
	f := sqlplugin.TimerTasksRangeFilter{ShardID: shard, InclusiveMinTaskID: math.MinInt64,
		InclusiveMinVisibilityTimestamp: min, ExclusiveMaxVisibilityTimestamp: max, PageSize: pageSize}
	for range 100 {
		rows, err := db.RangeSelectFromTimerTasks(context.Background(), f)
		require.NoError(t, err)
		require.LessOrEqual(t, len(rows), pageSize)
		pages = append(pages, len(rows))
		for _, row := range rows {
			ids = append(ids, row.TaskID)
		}
		if len(rows) < pageSize {
			return ids, pages
		}
		last := rows[len(rows)-1]
		f.InclusiveMinVisibilityTimestamp, f.InclusiveMinTaskID = last.VisibilityTimestamp, last.TaskID+1
	}
	t.Fatal("the range never ended")
	return nil, nil
}

func TestTimersOfClosedRunsAreLeftOutOfTheTimersTheServerRuns(t *testing.T) {
	f := newTimerFixture(t)
	start := time.Now().Add(-time.Hour)

	// The plugin reads every due timer.
	all, _ := readTimers(t, f.plain, f.shard, start, f.due, 100)
	require.Equal(t, f.ids[:len(f.ids)-1], all)

	var kept []int64
	for _, id := range all {
		if !f.noOps[id] {
			kept = append(kept, id)
		}
	}
	require.Len(t, kept, len(all)-4)
	for _, pageSize := range []int{1, 2, 3, 5, 100} {
		ids, pages := readTimers(t, f.prepared, f.shard, start, f.due, pageSize)
		require.Equal(t, kept, ids, "page size %d", pageSize)
		// Only the last page is short: a short page ends the server's read of the range.
		for _, n := range pages[:len(pages)-1] {
			require.Equal(t, pageSize, n, "page size %d: pages %v", pageSize, pages)
		}
	}
}

func TestTheLookAheadReadsEveryTimer(t *testing.T) {
	f := newTimerFixture(t)
	// The queue's look-ahead reads one timer from where its reads end to minutes ahead; a
	// timer of a closed run still tells it when to wake.
	lookAhead := time.Now().Add(5 * time.Minute)
	next, _ := readTimers(t, f.prepared, f.shard, f.due, lookAhead, 1)
	require.Equal(t, f.ids[len(f.ids)-1:], next)
	require.True(t, f.noOps[next[0]])
	// A range that ends beyond the read-ahead is read as the plugin reads it, all of it.
	all, _ := readTimers(t, f.prepared, f.shard, time.Now().Add(-time.Hour), lookAhead, 1)
	require.Equal(t, f.ids, all)
}

func TestTheTimerReadAheadIsTheServers(t *testing.T) {
	require.Equal(t, timerReadAhead, dynamicConfig()[dynamicconfig.TimerProcessorMaxTimeShift.Key()])
}
