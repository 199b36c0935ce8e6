package devserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/iancoleman/strcase"
	"github.com/jmoiron/sqlx"
	"go.temporal.io/server/chasm"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
)

// Temporal's SQLite plugin hands SQLite every query as text, which SQLite compiled anew each
// time (until the plugin's databases were given a connection that keeps what it compiles:
// writerconn.go), and runs them all on its one connection, one after another with the server's
// writes. Temporal creates a run outside its cache, so the completion of the run's one workflow
// task loads it (and, before closedtimers.go, the task's timeout timer loaded it again); that
// first load is now answered from what the run's creation wrote (newruns.go), but a run that
// left the cache, or one created with rows in its maps, is still read back from the
// database. Each load is nine queries (the run's row, six maps, its requested signals and its
// buffered events); at 50 concurrent predictions, compiling them was 3.7% of all CPU.
//
// The embedded server's state store therefore uses preparedReadsPluginName: Temporal's SQLite
// plugin with those nine reads, the lookup of a workflow id's current run, and the transfer
// and timer queues' reads of their tasks taken over by statements prepared once, on read
// connections of their own. In WAL mode a read sees every transaction committed before it
// starts. The server commits a run's state before it reads it back, and each queue reads the
// tasks it runs only below the lowest task whose write has not finished (the shard's reader
// high watermark, by task id for transfer tasks, by fire time for timers), so these reads
// return what the plugin's would. Two reads go above it: the timer queue's look-ahead, which
// only sets when the queue next wakes (a timer committed after it started wakes the queue
// itself, through the shard's notice of new tasks, as with the plugin's one connection), and
// an operator's listing of a shard's tasks, which sees what was committed when it starts.
// Transactions (every write and every read under a lock) and all other queries stay the
// plugin's, on its one connection (which keeps its statements: writerconn.go). The same
// plugin leaves out the timeout timers of closed runs when the server reads its due timers
// (closedtimers.go).
const preparedReadsPluginName = "flowgate-sqlite-prepared-reads"

func init() {
	tsql.RegisterPlugin(preparedReadsPluginName, wrappingPlugin{wrap: func(plain pluginDB, file string) sqlplugin.GenericDB {
		return &preparedReadsDB{pluginDB: plain, file: file}
	}})
}

// runReadConns is how many connections the reads share. Reads in WAL mode do not wait for one
// another or for the writer, so a few let the history service's loads run side by side.
const runReadConns = 4

// A runRead is one of the queries prepared on the read connections, an index into
// runReadQueries: those taken over from the plugin, and readRunState (closedtimers.go).
type runRead int

const (
	readExecution runRead = iota
	readActivityInfos
	readTimerInfos
	readChildExecutionInfos
	readRequestCancelInfos
	readSignalInfos
	readSignalsRequested
	readChasmNodes
	readBufferedEvents
	readCurrentExecution
	readTransferTasks
	readTimerTasks
	readRunState
)

// byRun selects one run's rows; every table of a run's state is keyed by these four columns.
const byRun = " WHERE shard_id = ? AND namespace_id = ? AND workflow_id = ? AND run_id = ?"

// runReadQueries select what the plugin's queries select, from the tables of Temporal's SQLite
// schema (readRunState, a run's state column alone, is ours). Where the plugin selects a map's
// own columns and copies the run's key into each row from the filter, these also select the
// key columns, which hold the same values (the key is what the query selects by), so that one
// generic read fills every table's rows.
var runReadQueries = [...]string{
	readExecution: "SELECT shard_id, namespace_id, workflow_id, run_id, next_event_id, last_write_version, " +
		"data, data_encoding, state, state_encoding, db_record_version FROM executions" + byRun,
	readActivityInfos:       mapQuery("activity_info_maps", "schedule_id, data, data_encoding"),
	readTimerInfos:          mapQuery("timer_info_maps", "timer_id, data, data_encoding"),
	readChildExecutionInfos: mapQuery("child_execution_info_maps", "initiated_id, data, data_encoding"),
	readRequestCancelInfos:  mapQuery("request_cancel_info_maps", "initiated_id, data, data_encoding"),
	readSignalInfos:         mapQuery("signal_info_maps", "initiated_id, data, data_encoding"),
	readSignalsRequested:    mapQuery("signals_requested_sets", "signal_id"),
	readChasmNodes:          mapQuery("chasm_node_maps", "chasm_path, metadata, metadata_encoding, data, data_encoding"),
	readBufferedEvents:      mapQuery("buffered_events", "data, data_encoding") + " ORDER BY id",
	readCurrentExecution: "SELECT shard_id, namespace_id, workflow_id, run_id, create_request_id, state, status, " +
		"start_time, last_write_version, data, data_encoding FROM current_executions " +
		"WHERE shard_id = ? AND namespace_id = ? AND workflow_id = ?",
	// The plugin's rows leave the shard out (the filter names it); so do these.
	readTransferTasks: "SELECT task_id, data, data_encoding FROM transfer_tasks " +
		"WHERE shard_id = ? AND task_id >= ? AND task_id < ? ORDER BY task_id LIMIT ?",
	// The plugin's query with its range's lower bound also given on its own (visibility_timestamp
	// >= ?), which both sides of the OR imply: SQLite cannot seek on an OR, so the plugin's
	// query reads the shard's timers from its first, the ones the queue has run but not yet
	// deleted included, until its page is full, while this one starts at the range.
	readTimerTasks: "SELECT visibility_timestamp, task_id, data, data_encoding FROM timer_tasks " +
		"WHERE shard_id = ? AND visibility_timestamp >= ? " +
		"AND ((visibility_timestamp >= ? AND task_id >= ?) OR visibility_timestamp > ?) " +
		"AND visibility_timestamp < ? ORDER BY visibility_timestamp, task_id LIMIT ?",
	readRunState: "SELECT state, state_encoding FROM executions" + byRun,
}

func mapQuery(table, columns string) string {
	return "SELECT shard_id, namespace_id, workflow_id, run_id, " + columns + " FROM " + table + byRun
}

// preparedReadsDB is the plugin's database with a run's state read through a runReader,
// opened at the first such read.
type preparedReadsDB struct {
	pluginDB
	file   string
	reader opener[*runReader]
}

var (
	_ sqlplugin.DB      = (*preparedReadsDB)(nil)
	_ sqlplugin.AdminDB = (*preparedReadsDB)(nil)
)

// A runReader holds the read connections and the statements prepared on them.
type runReader struct {
	db    *sqlx.DB
	stmts [len(runReadQueries)]*sqlx.Stmt
}

var errReaderClosed = errors.New("devserver: the run-state reader is closed")

// readerURL is a read connection to file: the server's own settings, a wait for a lock (a
// reader waits only while the log's index is rebuilt), and no writes.
func readerURL(file string) string {
	return fileURL(file, "_pragma=busy_timeout=10000", "_pragma=query_only=1")
}

func openRunReader(ctx context.Context, file string) (*runReader, error) {
	db, err := sqlx.Open("sqlite", readerURL(file))
	if err != nil {
		return nil, fmt.Errorf("devserver: open %s for run reads: %w", file, err)
	}
	// Column names map to the plugin's row structs as in the plugin.
	db.MapperFunc(strcase.ToSnake)
	// Connections are kept for good: each holds the statements prepared on it.
	db.SetMaxOpenConns(runReadConns)
	db.SetMaxIdleConns(runReadConns)
	r := &runReader{db: db}
	for read, query := range runReadQueries {
		if r.stmts[read], err = db.PreparexContext(ctx, query); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("devserver: prepare run read in %s: %w", file, err)
		}
	}
	return r, nil
}

// close closes the connections and the statements on them.
func (r *runReader) close() error { return r.db.Close() }

func (db *preparedReadsDB) stmt(ctx context.Context, read runRead) (*sqlx.Stmt, error) {
	r, err := db.reader.get(func() (*runReader, error) { return openRunReader(ctx, db.file) }, errReaderClosed)
	if err != nil {
		return nil, err
	}
	return r.stmts[read], nil
}

// getRow reads the one row of read for key, or sql.ErrNoRows.
func getRow[R any](ctx context.Context, db *preparedReadsDB, read runRead, key ...any) (*R, error) {
	s, err := db.stmt(ctx, read)
	if err != nil {
		return nil, err
	}
	var row R
	if err := s.GetContext(ctx, &row, key...); err != nil {
		return nil, err
	}
	return &row, nil
}

// selectRows reads every row of read for key; none is a nil slice, as from the plugin.
func selectRows[R any](ctx context.Context, db *preparedReadsDB, read runRead, key ...any) ([]R, error) {
	s, err := db.stmt(ctx, read)
	if err != nil {
		return nil, err
	}
	var rows []R
	if err := s.SelectContext(ctx, &rows, key...); err != nil {
		return nil, err
	}
	return rows, nil
}

func (db *preparedReadsDB) SelectFromExecutions(ctx context.Context, f sqlplugin.ExecutionsFilter) (*sqlplugin.ExecutionsRow, error) {
	return getRow[sqlplugin.ExecutionsRow](ctx, db, readExecution, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromActivityInfoMaps(ctx context.Context, f sqlplugin.ActivityInfoMapsAllFilter) ([]sqlplugin.ActivityInfoMapsRow, error) {
	return selectRows[sqlplugin.ActivityInfoMapsRow](ctx, db, readActivityInfos, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromTimerInfoMaps(ctx context.Context, f sqlplugin.TimerInfoMapsAllFilter) ([]sqlplugin.TimerInfoMapsRow, error) {
	return selectRows[sqlplugin.TimerInfoMapsRow](ctx, db, readTimerInfos, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromChildExecutionInfoMaps(ctx context.Context, f sqlplugin.ChildExecutionInfoMapsAllFilter) ([]sqlplugin.ChildExecutionInfoMapsRow, error) {
	return selectRows[sqlplugin.ChildExecutionInfoMapsRow](ctx, db, readChildExecutionInfos, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromRequestCancelInfoMaps(ctx context.Context, f sqlplugin.RequestCancelInfoMapsAllFilter) ([]sqlplugin.RequestCancelInfoMapsRow, error) {
	return selectRows[sqlplugin.RequestCancelInfoMapsRow](ctx, db, readRequestCancelInfos, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromSignalInfoMaps(ctx context.Context, f sqlplugin.SignalInfoMapsAllFilter) ([]sqlplugin.SignalInfoMapsRow, error) {
	return selectRows[sqlplugin.SignalInfoMapsRow](ctx, db, readSignalInfos, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromSignalsRequestedSets(ctx context.Context, f sqlplugin.SignalsRequestedSetsAllFilter) ([]sqlplugin.SignalsRequestedSetsRow, error) {
	return selectRows[sqlplugin.SignalsRequestedSetsRow](ctx, db, readSignalsRequested, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectAllFromChasmNodeMaps(ctx context.Context, f sqlplugin.ChasmNodeMapsAllFilter) ([]sqlplugin.ChasmNodeMapsRow, error) {
	return selectRows[sqlplugin.ChasmNodeMapsRow](ctx, db, readChasmNodes, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

func (db *preparedReadsDB) SelectFromBufferedEvents(ctx context.Context, f sqlplugin.BufferedEventsFilter) ([]sqlplugin.BufferedEventsRow, error) {
	return selectRows[sqlplugin.BufferedEventsRow](ctx, db, readBufferedEvents, f.ShardID, f.NamespaceID, f.WorkflowID, f.RunID)
}

// SelectFromCurrentExecutions looks up a workflow id's current run; the current runs of other
// archetypes (CHASM components) are the plugin's to read.
func (db *preparedReadsDB) SelectFromCurrentExecutions(ctx context.Context, f sqlplugin.CurrentExecutionsFilter) (*sqlplugin.CurrentExecutionsRow, error) {
	if f.ArchetypeID != chasm.WorkflowArchetypeID {
		return db.pluginDB.SelectFromCurrentExecutions(ctx, f)
	}
	row, err := getRow[sqlplugin.CurrentExecutionsRow](ctx, db, readCurrentExecution, f.ShardID, f.NamespaceID, f.WorkflowID)
	if err != nil {
		return nil, err
	}
	row.ArchetypeID = f.ArchetypeID
	return row, nil
}

// RangeSelectFromTransferTasks reads a page of the shard's transfer tasks in f's range, as the
// plugin does: compiling the plugin's text anew for each of the queue's reads was 0.6% of all
// CPU at 50 clients.
func (db *preparedReadsDB) RangeSelectFromTransferTasks(ctx context.Context, f sqlplugin.TransferTasksRangeFilter) ([]sqlplugin.TransferTasksRow, error) {
	return selectRows[sqlplugin.TransferTasksRow](ctx, db, readTransferTasks, f.ShardID, f.InclusiveMinTaskID, f.ExclusiveMaxTaskID, f.PageSize)
}

// timerPage reads a page of the shard's timers in f's range, as the plugin's
// RangeSelectFromTimerTasks does, its times converted as the plugin converts them.
func (db *preparedReadsDB) timerPage(ctx context.Context, f sqlplugin.TimerTasksRangeFilter) ([]sqlplugin.TimerTasksRow, error) {
	from, to := sqliteTime(f.InclusiveMinVisibilityTimestamp), sqliteTime(f.ExclusiveMaxVisibilityTimestamp)
	rows, err := selectRows[sqlplugin.TimerTasksRow](ctx, db, readTimerTasks, f.ShardID, from, from, f.InclusiveMinTaskID, from, to, f.PageSize)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].VisibilityTimestamp = fromSQLiteTime(rows[i].VisibilityTimestamp)
	}
	return rows, nil
}

func (db *preparedReadsDB) Close() error { return db.reader.closeWith(db.pluginDB) }
