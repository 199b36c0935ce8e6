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

// timerStore is a state database, written through Temporal's plugin, with runs and timers.
type timerStore struct {
	t               *testing.T
	plain, prepared sqlplugin.DB
	namespace       primitives.UUID
	nextID          int64
	// noOps are the task ids of the timers that fire for nothing.
	noOps map[int64]bool
}

const timerShard = int32(1)

func newTimerStore(t *testing.T) *timerStore {
	plain, prepared := stateDBs(t)
	return &timerStore{t: t, plain: plain, prepared: prepared, namespace: primitives.NewUUID(), nextID: 100, noOps: map[int64]bool{}}
}

// run stores a run in state; a nil state stores a state column that does not decode.
func (s *timerStore) run(workflow string, state *enumsspb.WorkflowExecutionState) runKey {
	s.t.Helper()
	k := runKey{shard: timerShard, namespace: s.namespace, workflow: workflow, run: primitives.NewUUID()}
	data, encoding := []byte{0xff, 0xff}, "Proto3"
	if state != nil {
		blob, err := serialization.NewSerializer().WorkflowExecutionStateToBlob(&persistencespb.WorkflowExecutionState{RunId: k.run.String(), State: *state})
		require.NoError(s.t, err)
		data, encoding = blob.Data, blob.EncodingType.String()
	}
	_, err := s.plain.InsertIntoExecutions(context.Background(), &sqlplugin.ExecutionsRow{ShardID: k.shard, NamespaceID: k.namespace,
		WorkflowID: k.workflow, RunID: k.run, NextEventID: 4, Data: []byte("info"), DataEncoding: "Proto3",
		State: data, StateEncoding: encoding})
	require.NoError(s.t, err)
	return k
}

// timer stores a timer of kind for run, firing at, and returns its task id; noOp marks the
// timers expected to be left out. A nil run stores a row that is not a timer.
func (s *timerStore) timer(run *runKey, kind enumsspb.TaskType, at time.Time, noOp bool) int64 {
	s.t.Helper()
	id := s.nextID
	s.nextID++
	data, encoding := []byte{0xff, 0xff}, "Proto3"
	if run != nil {
		blob, err := serialization.NewSerializer().TimerTaskInfoToBlob(&persistencespb.TimerTaskInfo{NamespaceId: run.namespace.String(),
			WorkflowId: run.workflow, RunId: run.run.String(), TaskType: kind, TaskId: id})
		require.NoError(s.t, err)
		data, encoding = blob.Data, blob.EncodingType.String()
	}
	_, err := s.plain.InsertIntoTimerTasks(context.Background(), []sqlplugin.TimerTasksRow{{ShardID: timerShard,
		VisibilityTimestamp: at.UTC().Truncate(time.Millisecond), TaskID: id, Data: data, DataEncoding: encoding}})
	require.NoError(s.t, err)
	if noOp {
		s.noOps[id] = true
	}
	return id
}

// kept is ids less the timers that fire for nothing.
func (s *timerStore) kept(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if !s.noOps[id] {
			out = append(out, id)
		}
	}
	return out
}

func state(s enumsspb.WorkflowExecutionState) *enumsspb.WorkflowExecutionState { return &s }

// readTimers reads [min, max) page by page as the server's SQL store does, and returns the
// task ids read and the length of every page.
func readTimers(t *testing.T, db sqlplugin.DB, min, max time.Time, pageSize int) (ids []int64, pages []int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := sqlplugin.TimerTasksRangeFilter{ShardID: timerShard, InclusiveMinTaskID: math.MinInt64,
		InclusiveMinVisibilityTimestamp: min, ExclusiveMaxVisibilityTimestamp: max, PageSize: pageSize}
	for range 1000 {
		rows, err := db.RangeSelectFromTimerTasks(ctx, f)
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

// requireFullPages checks that only the last page is short: a short page ends the server's
// read of the range.
func requireFullPages(t *testing.T, pageSize int, pages []int) {
	t.Helper()
	for _, n := range pages[:len(pages)-1] {
		require.Equal(t, pageSize, n, "page size %d: pages %v", pageSize, pages)
	}
}

func TestTimersOfClosedRunsAreLeftOutOfTheTimersTheServerRuns(t *testing.T) {
	s := newTimerStore(t)
	closed := s.run("closed", state(enumsspb.WORKFLOW_EXECUTION_STATE_COMPLETED))
	running := s.run("running", state(enumsspb.WORKFLOW_EXECUTION_STATE_RUNNING))
	created := s.run("created", state(enumsspb.WORKFLOW_EXECUTION_STATE_CREATED))
	zombie := s.run("zombie", state(enumsspb.WORKFLOW_EXECUTION_STATE_ZOMBIE))
	unreadable := s.run("unreadable", nil)
	missing := runKey{shard: timerShard, namespace: s.namespace, workflow: "missing", run: primitives.NewUUID()}

	at := time.Now().Add(-time.Minute)
	// Two timers share each fire time, so a page can end between them.
	next := func(i int) time.Time { return at.Add(time.Duration(i/2) * time.Second) }
	var all []int64
	for i, timer := range []struct {
		run  *runKey
		kind enumsspb.TaskType
		noOp bool
	}{
		{&running, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, false},
		{&closed, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, true},
		{&closed, enumsspb.TASK_TYPE_ACTIVITY_TIMEOUT, true},
		{&closed, enumsspb.TASK_TYPE_DELETE_HISTORY_EVENT, false}, // retention: deletes the run
		{&closed, enumsspb.TASK_TYPE_USER_TIMER, false},
		{&missing, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, false},
		{nil, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, false}, // not a timer
		{&closed, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, true},
		{&running, enumsspb.TASK_TYPE_ACTIVITY_TIMEOUT, false},
		{&created, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, false},
		{&closed, enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT, true},
		{&zombie, enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT, false},
		{&unreadable, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, false},
		{&running, enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT, false},
	} {
		all = append(all, s.timer(timer.run, timer.kind, next(i), timer.noOp))
	}
	due := time.Now()

	read, _ := readTimers(t, s.plain, at.Add(-time.Hour), due, 100)
	require.Equal(t, all, read)
	kept := s.kept(all)
	require.Len(t, kept, len(all)-4)
	for _, pageSize := range []int{1, 2, 3, 5, 100} {
		ids, pages := readTimers(t, s.prepared, at.Add(-time.Hour), due, pageSize)
		require.Equal(t, kept, ids, "page size %d", pageSize)
		requireFullPages(t, pageSize, pages)
	}
}

func TestTheServersReadAheadLeavesOutTimersOfClosedRuns(t *testing.T) {
	s := newTimerStore(t)
	closed := s.run("closed", state(enumsspb.WORKFLOW_EXECUTION_STATE_COMPLETED))
	running := s.run("running", state(enumsspb.WORKFLOW_EXECUTION_STATE_RUNNING))
	// The server reads the timers due within the next second (and 1 ms: its ranges end just
	// past a millisecond).
	soon := time.Now().Add(timerReadAhead / 2)
	noOp := s.timer(&closed, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, soon, true)
	live := s.timer(&running, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, soon, false)
	end := time.Now().Add(timerReadAhead + time.Millisecond)

	read, _ := readTimers(t, s.plain, time.Now().Add(-time.Hour), end, 100)
	require.Equal(t, []int64{noOp, live}, read)
	read, _ = readTimers(t, s.prepared, time.Now().Add(-time.Hour), end, 100)
	require.Equal(t, []int64{live}, read)
}

func TestTheLookAheadReadsEveryTimer(t *testing.T) {
	s := newTimerStore(t)
	closed := s.run("closed", state(enumsspb.WORKFLOW_EXECUTION_STATE_COMPLETED))
	past := s.timer(&closed, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, time.Now().Add(-time.Minute), true)
	ahead := s.timer(&closed, enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT, time.Now().Add(2*time.Minute), true)

	// The queue's look-ahead reads one timer from where its reads end to minutes ahead; a
	// timer of a closed run still tells it when to wake.
	lookAhead := time.Now().Add(5 * time.Minute)
	next, _ := readTimers(t, s.prepared, time.Now().Add(3*timerReadAhead), lookAhead, 1)
	require.Equal(t, []int64{ahead}, next)
	// A range that ends beyond the read-ahead is read as the plugin reads it, all of it.
	read, _ := readTimers(t, s.prepared, time.Now().Add(-time.Hour), lookAhead, 1)
	require.Equal(t, []int64{past, ahead}, read)
}

func TestAReadLeavesOutABoundedNumberOfTimers(t *testing.T) {
	s := newTimerStore(t)
	closed := s.run("closed", state(enumsspb.WORKFLOW_EXECUTION_STATE_COMPLETED))
	running := s.run("running", state(enumsspb.WORKFLOW_EXECUTION_STATE_RUNNING))
	// A long stretch of closed runs' timers, as after a restart that followed heavy traffic.
	at := time.Now().Add(-time.Hour)
	// Three budgets' worth and some, whatever the budget.
	const pageSize = 3
	perRead := leftOutPerPage * pageSize
	stretch := 3*(perRead+pageSize) + 1
	var all []int64
	for i := range stretch {
		all = append(all, s.timer(&closed, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, at.Add(time.Duration(i)*time.Millisecond), true))
	}
	live := s.timer(&running, enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT, at.Add(time.Duration(stretch)*time.Millisecond), false)
	all = append(all, live)

	ids, pages := readTimers(t, s.prepared, at.Add(-time.Hour), time.Now(), pageSize)
	requireFullPages(t, pageSize, pages)
	require.Equal(t, live, ids[len(ids)-1])
	// Every read left out leftOutPerPage×pageSize timers, then filled its page with the next:
	// those the server loads and drops itself.
	var want []int64
	for i, id := range all[:stretch] {
		if i%(perRead+pageSize) >= perRead {
			want = append(want, id)
		}
	}
	require.Len(t, want, 3*pageSize)
	require.Equal(t, append(want, live), ids)
}

func TestTheTimerReadAheadIsTheServers(t *testing.T) {
	config := dynamicConfig()
	require.Equal(t, timerReadAhead, config[dynamicconfig.TimerProcessorMaxTimeShift.Key()])
	// The look-ahead's ranges reach far beyond the reads the store filters (twice the read-ahead).
	_, overridden := config[dynamicconfig.TimerProcessorMaxPollInterval.Key()]
	require.False(t, overridden)
	require.Greater(t, dynamicconfig.TimerProcessorMaxPollInterval.Get(dynamicconfig.NewNoopCollection())(), time.Minute)
}

func TestTheHistoryQueuesCannotFillTheCache(t *testing.T) {
	config := dynamicConfig()
	workers := 0
	for _, key := range []dynamicconfig.Key{dynamicconfig.TimerProcessorSchedulerWorkerCount.Key(),
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key(), dynamicconfig.VisibilityProcessorSchedulerWorkerCount.Key()} {
		n, ok := config[key].(int)
		require.True(t, ok, "%s is set", key)
		workers += n
	}
	require.LessOrEqual(t, 5*workers, config[dynamicconfig.HistoryCacheHostLevelMaxSize.Key()])
}
