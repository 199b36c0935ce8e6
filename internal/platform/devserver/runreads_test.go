package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	enumsspb "go.temporal.io/server/api/enums/v1"
	"go.temporal.io/server/chasm"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/resolver"
)

// stateDBs opens one fresh state database file twice: through Temporal's plugin and through
// the prepared-reads plugin.
func stateDBs(t *testing.T) (plain, prepared sqlplugin.DB) {
	t.Helper()
	conf, err := sqliteStore(filepath.Join(t.TempDir(), "state.db"), "state")
	require.NoError(t, err)
	open := func(plugin string) sqlplugin.DB {
		c := *conf
		c.PluginName = plugin
		db, err := tsql.NewSQLDB(sqlplugin.DbKindMain, &c, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	return open(sqliteplugin.PluginName), open(preparedReadsPluginName)
}

// runKey is one run's key in every table of its state.
type runKey struct {
	shard     int32
	namespace primitives.UUID
	workflow  string
	run       primitives.UUID
}

// storeRun writes a run's state through the plugin: its row, its current-run row, and n rows
// in each map and of requested signals and buffered events, each marked with tag.
func storeRun(t *testing.T, db sqlplugin.DB, k runKey, n int, tag string) {
	t.Helper()
	ctx := context.Background()
	data := func(i int, what string) []byte { return fmt.Appendf(nil, "%s-%s-%d", tag, what, i) }
	_, err := db.InsertIntoExecutions(ctx, &sqlplugin.ExecutionsRow{ShardID: k.shard, NamespaceID: k.namespace,
		WorkflowID: k.workflow, RunID: k.run, NextEventID: 7, LastWriteVersion: 3, Data: data(0, "info"),
		DataEncoding: "Proto3", State: data(0, "state"), StateEncoding: "Proto3", DBRecordVersion: 2})
	require.NoError(t, err)
	start := time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.UTC)
	_, err = db.InsertIntoCurrentExecutions(ctx, &sqlplugin.CurrentExecutionsRow{ShardID: k.shard, NamespaceID: k.namespace,
		WorkflowID: k.workflow, RunID: k.run, ArchetypeID: chasm.WorkflowArchetypeID, CreateRequestID: "request-" + tag,
		StartTime: &start, LastWriteVersion: 3, State: enumsspb.WORKFLOW_EXECUTION_STATE_RUNNING,
		Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, Data: data(0, "current"), DataEncoding: "Proto3"})
	require.NoError(t, err)
	for i := range n {
		_, err = db.ReplaceIntoActivityInfoMaps(ctx, []sqlplugin.ActivityInfoMapsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, ScheduleID: int64(10 + i), Data: data(i, "activity"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
		_, err = db.ReplaceIntoTimerInfoMaps(ctx, []sqlplugin.TimerInfoMapsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, TimerID: fmt.Sprint("timer-", i), Data: data(i, "timer"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
		_, err = db.ReplaceIntoChildExecutionInfoMaps(ctx, []sqlplugin.ChildExecutionInfoMapsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, InitiatedID: int64(20 + i), Data: data(i, "child"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
		_, err = db.ReplaceIntoRequestCancelInfoMaps(ctx, []sqlplugin.RequestCancelInfoMapsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, InitiatedID: int64(30 + i), Data: data(i, "cancel"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
		_, err = db.ReplaceIntoSignalInfoMaps(ctx, []sqlplugin.SignalInfoMapsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, InitiatedID: int64(40 + i), Data: data(i, "signal"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
		_, err = db.ReplaceIntoSignalsRequestedSets(ctx, []sqlplugin.SignalsRequestedSetsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, SignalID: fmt.Sprint("signal-", tag, i)}})
		require.NoError(t, err)
		_, err = db.ReplaceIntoChasmNodeMaps(ctx, []sqlplugin.ChasmNodeMapsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, ChasmPath: fmt.Sprint("node-", i), Metadata: data(i, "meta"),
			MetadataEncoding: "Proto3", Data: data(i, "chasm"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
		_, err = db.InsertIntoBufferedEvents(ctx, []sqlplugin.BufferedEventsRow{{ShardID: k.shard, NamespaceID: k.namespace,
			WorkflowID: k.workflow, RunID: k.run, Data: data(i, "events"), DataEncoding: "Proto3"}})
		require.NoError(t, err)
	}
}

// runState is everything the server's load of a run reads, through db.
type runState struct {
	Execution      *sqlplugin.ExecutionsRow
	Current        *sqlplugin.CurrentExecutionsRow
	Activities     []sqlplugin.ActivityInfoMapsRow
	Timers         []sqlplugin.TimerInfoMapsRow
	Children       []sqlplugin.ChildExecutionInfoMapsRow
	Cancels        []sqlplugin.RequestCancelInfoMapsRow
	Signals        []sqlplugin.SignalInfoMapsRow
	SignalsWanted  []sqlplugin.SignalsRequestedSetsRow
	ChasmNodes     []sqlplugin.ChasmNodeMapsRow
	BufferedEvents []sqlplugin.BufferedEventsRow
}

func readRun(t *testing.T, db sqlplugin.DB, k runKey) runState {
	t.Helper()
	ctx := context.Background()
	var s runState
	var err error
	s.Execution, err = db.SelectFromExecutions(ctx, sqlplugin.ExecutionsFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.Current, err = db.SelectFromCurrentExecutions(ctx, sqlplugin.CurrentExecutionsFilter{ShardID: k.shard, NamespaceID: k.namespace,
		WorkflowID: k.workflow, ArchetypeID: chasm.WorkflowArchetypeID})
	require.NoError(t, err)
	s.Activities, err = db.SelectAllFromActivityInfoMaps(ctx, sqlplugin.ActivityInfoMapsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.Timers, err = db.SelectAllFromTimerInfoMaps(ctx, sqlplugin.TimerInfoMapsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.Children, err = db.SelectAllFromChildExecutionInfoMaps(ctx, sqlplugin.ChildExecutionInfoMapsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.Cancels, err = db.SelectAllFromRequestCancelInfoMaps(ctx, sqlplugin.RequestCancelInfoMapsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.Signals, err = db.SelectAllFromSignalInfoMaps(ctx, sqlplugin.SignalInfoMapsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.SignalsWanted, err = db.SelectAllFromSignalsRequestedSets(ctx, sqlplugin.SignalsRequestedSetsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.ChasmNodes, err = db.SelectAllFromChasmNodeMaps(ctx, sqlplugin.ChasmNodeMapsAllFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	s.BufferedEvents, err = db.SelectFromBufferedEvents(ctx, sqlplugin.BufferedEventsFilter{ShardID: k.shard, NamespaceID: k.namespace, WorkflowID: k.workflow, RunID: k.run})
	require.NoError(t, err)
	return s
}

// TestPreparedReadsReadWhatThePluginReads: a run's state read through the prepared statements
// is exactly what Temporal's plugin reads (every row of every table, in the same order, only
// the run's own), including what was written after an earlier read.
func TestPreparedReadsReadWhatThePluginReads(t *testing.T) {
	plain, prepared := stateDBs(t)
	run := runKey{shard: 1, namespace: primitives.NewUUID(), workflow: "chat-1", run: primitives.NewUUID()}
	storeRun(t, plain, run, 3, "a")
	// Another run of another workflow in the same namespace and shard: not part of the first.
	other := runKey{shard: 1, namespace: run.namespace, workflow: "chat-2", run: primitives.NewUUID()}
	storeRun(t, plain, other, 2, "b")

	want := readRun(t, plain, run)
	require.Len(t, want.Timers, 3)
	require.Len(t, want.BufferedEvents, 3)
	require.Equal(t, want, readRun(t, prepared, run))
	require.Equal(t, readRun(t, plain, other), readRun(t, prepared, other))

	// A later write is seen by the next read: no read keeps an old snapshot of the database.
	ctx := context.Background()
	_, err := plain.UpdateExecutions(ctx, &sqlplugin.ExecutionsRow{ShardID: run.shard, NamespaceID: run.namespace,
		WorkflowID: run.workflow, RunID: run.run, NextEventID: 9, LastWriteVersion: 3, Data: []byte("a-info-later"),
		DataEncoding: "Proto3", State: []byte("a-state-later"), StateEncoding: "Proto3", DBRecordVersion: 3})
	require.NoError(t, err)
	storeRun(t, plain, runKey{shard: 1, namespace: run.namespace, workflow: "chat-3", run: primitives.NewUUID()}, 1, "c")
	_, err = plain.ReplaceIntoTimerInfoMaps(ctx, []sqlplugin.TimerInfoMapsRow{{ShardID: run.shard, NamespaceID: run.namespace,
		WorkflowID: run.workflow, RunID: run.run, TimerID: "timer-later", Data: []byte("later"), DataEncoding: "Proto3"}})
	require.NoError(t, err)
	later := readRun(t, prepared, run)
	require.Equal(t, readRun(t, plain, run), later)
	require.Equal(t, int64(9), later.Execution.NextEventID)
	require.Len(t, later.Timers, 4)
}

// TestPreparedTransferReadsReadWhatThePluginReads: the transfer queue's pages, read through
// the prepared statement, are the plugin's for every range and page size, other shards' tasks
// apart, and a task written later is in the next read.
func TestPreparedTransferReadsReadWhatThePluginReads(t *testing.T) {
	plain, prepared := stateDBs(t)
	ctx := context.Background()
	var rows []sqlplugin.TransferTasksRow
	for id := int64(1); id <= 12; id++ {
		rows = append(rows, sqlplugin.TransferTasksRow{ShardID: 1, TaskID: id * 10, Data: fmt.Appendf(nil, "task-%d", id), DataEncoding: "Proto3"},
			sqlplugin.TransferTasksRow{ShardID: 2, TaskID: id*10 + 5, Data: fmt.Appendf(nil, "other-%d", id), DataEncoding: "Proto3"})
	}
	_, err := plain.InsertIntoTransferTasks(ctx, rows)
	require.NoError(t, err)

	read := func(db sqlplugin.DB, shard int32, from, to int64, page int) []sqlplugin.TransferTasksRow {
		got, err := db.RangeSelectFromTransferTasks(ctx, sqlplugin.TransferTasksRangeFilter{ShardID: shard,
			InclusiveMinTaskID: from, ExclusiveMaxTaskID: to, PageSize: page})
		require.NoError(t, err)
		return got
	}
	for _, shard := range []int32{1, 2, 3} {
		for _, r := range [][2]int64{{0, 1000}, {10, 11}, {11, 50}, {35, 120}, {120, 121}, {200, 300}} {
			for _, page := range []int{1, 3, 100} {
				want := read(plain, shard, r[0], r[1], page)
				require.Equal(t, want, read(prepared, shard, r[0], r[1], page), "shard %d, range %v, page %d", shard, r, page)
			}
		}
	}
	all := read(prepared, 1, 0, 1000, 100)
	require.Len(t, all, 12)
	require.Equal(t, int64(10), all[0].TaskID)
	require.Equal(t, "task-1", string(all[0].Data))
	require.Len(t, read(prepared, 1, 35, 120, 3), 3)

	_, err = plain.InsertIntoTransferTasks(ctx, []sqlplugin.TransferTasksRow{{ShardID: 1, TaskID: 125, Data: []byte("later"), DataEncoding: "Proto3"}})
	require.NoError(t, err)
	later := read(prepared, 1, 121, 1000, 100)
	require.Equal(t, read(plain, 1, 121, 1000, 100), later)
	require.Len(t, later, 1)
}

// TestPreparedTimerReadsReadWhatThePluginReads: the timer queue's pages, read through the
// prepared statement, are the plugin's for every range (timers at the same time told apart by
// task id, a timer with a lower id than timers due before it, the zero time as the lower
// bound, bounds in other zones) and page size, other shards' timers apart, and a timer
// written later is in the next read.
func TestPreparedTimerReadsReadWhatThePluginReads(t *testing.T) {
	plain, prepared := stateDBs(t)
	ctx := context.Background()
	base := time.Date(2026, 12, 5, 10, 0, 0, 123456000, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	rows := []sqlplugin.TimerTasksRow{{ShardID: 1, TaskID: 1, Data: []byte("zero"), DataEncoding: "Proto3"}} // the zero time
	for i := 1; i <= 6; i++ {
		for _, id := range []int64{10, 20, 30} { // three timers at each time
			rows = append(rows,
				sqlplugin.TimerTasksRow{ShardID: 1, VisibilityTimestamp: at(i), TaskID: int64(i)*100 + id, Data: fmt.Appendf(nil, "timer-%d-%d", i, id), DataEncoding: "Proto3"},
				sqlplugin.TimerTasksRow{ShardID: 2, VisibilityTimestamp: at(i), TaskID: int64(i)*100 + id + 5, Data: fmt.Appendf(nil, "other-%d-%d", i, id), DataEncoding: "Proto3"})
		}
	}
	// A timer created later can be due earlier: its id is below those of the timers before it.
	rows = append(rows, sqlplugin.TimerTasksRow{ShardID: 1, VisibilityTimestamp: at(3), TaskID: 50, Data: []byte("early"), DataEncoding: "Proto3"})
	_, err := plain.InsertIntoTimerTasks(ctx, rows)
	require.NoError(t, err)

	read := func(db sqlplugin.DB, shard int32, from time.Time, fromID int64, to time.Time, page int) []sqlplugin.TimerTasksRow {
		f := sqlplugin.TimerTasksRangeFilter{ShardID: shard, InclusiveMinVisibilityTimestamp: from, InclusiveMinTaskID: fromID,
			ExclusiveMaxVisibilityTimestamp: to, PageSize: page}
		if p, ok := db.(*preparedReadsDB); ok {
			got, err := p.timerPage(ctx, f) // without leaving out closed runs' timers (closedtimers.go)
			require.NoError(t, err)
			return got
		}
		got, err := db.RangeSelectFromTimerTasks(ctx, f)
		require.NoError(t, err)
		return got
	}
	ranges := []struct {
		from   time.Time
		fromID int64
		to     time.Time
	}{
		{time.Time{}, 0, at(100)}, {time.Time{}, 0, at(1)}, {at(2), 0, at(4)}, {at(2), 220, at(4)}, {at(2), 231, at(4)},
		{at(2), 220, at(2).Add(time.Microsecond)}, {at(6), 630, at(7)}, {at(7), 0, at(100)}, {at(3).Add(time.Millisecond), 0, at(5)},
		{time.Time{}, 5, at(3)}, {at(2), 240, at(4)},
		// Bounds finer than a microsecond, which the plugin truncates, and in other zones.
		{at(2).Add(500 * time.Nanosecond), 0, at(4)}, {at(1), 0, at(2).Add(500 * time.Nanosecond)},
		{at(2).In(time.FixedZone("east", 7200)), 0, at(4).In(time.FixedZone("west", -3600))},
	}
	for _, shard := range []int32{1, 2, 3} {
		for _, r := range ranges {
			for _, page := range []int{1, 4, 100} {
				want := read(plain, shard, r.from, r.fromID, r.to, page)
				require.Equal(t, want, read(prepared, shard, r.from, r.fromID, r.to, page), "shard %d, range %v, page %d", shard, r, page)
			}
		}
	}
	all := read(prepared, 1, time.Time{}, 0, at(100), 100)
	require.Len(t, all, 20)
	require.True(t, all[0].VisibilityTimestamp.IsZero())
	require.Equal(t, at(1), all[1].VisibilityTimestamp)
	require.Equal(t, "timer-1-10", string(all[1].Data))
	same := read(prepared, 1, at(2), 220, at(3), 100)
	require.Equal(t, []int64{220, 230}, []int64{same[0].TaskID, same[1].TaskID})

	_, err = plain.InsertIntoTimerTasks(ctx, []sqlplugin.TimerTasksRow{{ShardID: 1, VisibilityTimestamp: at(8), TaskID: 999, Data: []byte("later"), DataEncoding: "Proto3"}})
	require.NoError(t, err)
	later := read(prepared, 1, at(7), 0, at(100), 100)
	require.Equal(t, read(plain, 1, at(7), 0, at(100), 100), later)
	require.Len(t, later, 1)
}

// TestPreparedTimerReadsSeekToTheirRange: SQLite seeks to the lower bound of a page's range,
// where the plugin's query reads the shard's timers from its first.
func TestPreparedTimerReadsSeekToTheirRange(t *testing.T) {
	_, prepared := stateDBs(t)
	ctx := context.Background()
	_, err := prepared.(*preparedReadsDB).timerPage(ctx, sqlplugin.TimerTasksRangeFilter{ShardID: 1, PageSize: 1}) // opens the reader
	require.NoError(t, err)
	r, err := prepared.(*preparedReadsDB).reader.get(nil, errReaderClosed)
	require.NoError(t, err)
	now := time.Now()
	rows, err := r.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+runReadQueries[readTimerTasks], 1, now, now, 0, now, now, 100)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	require.Len(t, plan, 1)
	require.Contains(t, plan[0], "(shard_id=? AND visibility_timestamp>? AND visibility_timestamp<?)")
}

// TestPreparedReadsReportAMissingRunAsThePluginDoes: the store tells a missing run by
// comparing the error with sql.ErrNoRows, so it must come back unwrapped; a run without maps
// has none.
func TestPreparedReadsReportAMissingRunAsThePluginDoes(t *testing.T) {
	plain, prepared := stateDBs(t)
	ctx := context.Background()
	missing := sqlplugin.ExecutionsFilter{ShardID: 1, NamespaceID: primitives.NewUUID(), WorkflowID: "none", RunID: primitives.NewUUID()}
	for _, db := range []sqlplugin.DB{plain, prepared} {
		row, err := db.SelectFromExecutions(ctx, missing)
		require.Nil(t, row)
		require.True(t, err == sql.ErrNoRows, "got %v", err) //nolint:errorlint // the store compares with ==
		_, err = db.SelectFromCurrentExecutions(ctx, sqlplugin.CurrentExecutionsFilter{ShardID: 1, NamespaceID: missing.NamespaceID,
			WorkflowID: "none", ArchetypeID: chasm.WorkflowArchetypeID})
		require.True(t, err == sql.ErrNoRows, "got %v", err) //nolint:errorlint // the store compares with ==
		timers, err := db.SelectAllFromTimerInfoMaps(ctx, sqlplugin.TimerInfoMapsAllFilter(missing))
		require.NoError(t, err)
		require.Nil(t, timers)
	}
}

// TestPreparedReadsTakeOverEveryRunRead: once the reader is closed, every read it took over
// fails, so none of them is still answered by the plugin; the current run of another archetype
// is the plugin's to read, and still is.
func TestPreparedReadsTakeOverEveryRunRead(t *testing.T) {
	plain, prepared := stateDBs(t)
	run := runKey{shard: 1, namespace: primitives.NewUUID(), workflow: "chat-1", run: primitives.NewUUID()}
	storeRun(t, plain, run, 1, "a")
	readRun(t, prepared, run) // opens the reader

	r, err := prepared.(*preparedReadsDB).reader.get(nil, errReaderClosed)
	require.NoError(t, err)
	require.NoError(t, r.close())
	ctx := context.Background()
	f := sqlplugin.ExecutionsFilter{ShardID: run.shard, NamespaceID: run.namespace, WorkflowID: run.workflow, RunID: run.run}
	reads := map[string]func() error{
		"execution": func() error { _, err := prepared.SelectFromExecutions(ctx, f); return err },
		"current": func() error {
			_, err := prepared.SelectFromCurrentExecutions(ctx, sqlplugin.CurrentExecutionsFilter{ShardID: run.shard,
				NamespaceID: run.namespace, WorkflowID: run.workflow, ArchetypeID: chasm.WorkflowArchetypeID})
			return err
		},
		"activities": func() error {
			_, err := prepared.SelectAllFromActivityInfoMaps(ctx, sqlplugin.ActivityInfoMapsAllFilter(f))
			return err
		},
		"timers": func() error {
			_, err := prepared.SelectAllFromTimerInfoMaps(ctx, sqlplugin.TimerInfoMapsAllFilter(f))
			return err
		},
		"children": func() error {
			_, err := prepared.SelectAllFromChildExecutionInfoMaps(ctx, sqlplugin.ChildExecutionInfoMapsAllFilter(f))
			return err
		},
		"cancels": func() error {
			_, err := prepared.SelectAllFromRequestCancelInfoMaps(ctx, sqlplugin.RequestCancelInfoMapsAllFilter(f))
			return err
		},
		"signals": func() error {
			_, err := prepared.SelectAllFromSignalInfoMaps(ctx, sqlplugin.SignalInfoMapsAllFilter(f))
			return err
		},
		"signals requested": func() error {
			_, err := prepared.SelectAllFromSignalsRequestedSets(ctx, sqlplugin.SignalsRequestedSetsAllFilter(f))
			return err
		},
		"chasm nodes": func() error {
			_, err := prepared.SelectAllFromChasmNodeMaps(ctx, sqlplugin.ChasmNodeMapsAllFilter(f))
			return err
		},
		"buffered events": func() error {
			_, err := prepared.SelectFromBufferedEvents(ctx, sqlplugin.BufferedEventsFilter(f))
			return err
		},
		"transfer tasks": func() error {
			_, err := prepared.RangeSelectFromTransferTasks(ctx, sqlplugin.TransferTasksRangeFilter{ShardID: run.shard,
				ExclusiveMaxTaskID: 1000, PageSize: 10})
			return err
		},
		"timer tasks": func() error {
			_, err := prepared.RangeSelectFromTimerTasks(ctx, sqlplugin.TimerTasksRangeFilter{ShardID: run.shard,
				ExclusiveMaxVisibilityTimestamp: time.Now().Add(time.Hour), PageSize: 10})
			return err
		},
	}
	for name, read := range reads {
		require.Error(t, read(), name)
	}

	other := sqlplugin.CurrentExecutionsFilter{ShardID: run.shard, NamespaceID: run.namespace, WorkflowID: run.workflow,
		ArchetypeID: chasm.WorkflowArchetypeID + 1}
	_, err = prepared.SelectFromCurrentExecutions(ctx, other)
	require.True(t, err == sql.ErrNoRows, "got %v", err) //nolint:errorlint // the store compares with ==

	require.NoError(t, prepared.Close())
	_, err = prepared.SelectFromExecutions(ctx, f)
	require.ErrorIs(t, err, errReaderClosed)
}

// TestPreparedReadsOnlyForWALFiles: an in-memory database keeps the plugin's one connection,
// the only one that sees its data.
func TestPreparedReadsOnlyForWALFiles(t *testing.T) {
	conf, err := sqliteStore("", "state")
	require.NoError(t, err)
	conf.PluginName = preparedReadsPluginName
	db, err := tsql.NewSQLDB(sqlplugin.DbKindMain, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	_, prepared := db.(*preparedReadsDB)
	require.False(t, prepared)
}
