package devserver

import (
	"context"
	"time"

	enumsspb "go.temporal.io/server/api/enums/v1"
	persistencespb "go.temporal.io/server/api/persistence/v1"
	p "go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/serialization"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/primitives"
)

// Every run leaves timeout timers behind: its workflow task's (PredictionTaskTimeout after the
// task started), its own at the prediction timeout, and its activities'. A prediction closes
// long before they fire, and the SQL store cannot delete them when it closes (Temporal's
// best-effort deletion of a completed task's timers is a no-op in its SQL store, and only
// knows timers created in the same cached run, while every new run is read back from the
// database once). So each timer still fires; the server loads the closed run to find it has
// nothing to do, nine queries and a decode of the run's whole state, and puts the run back
// into its cache, pushing out one that is still running: 5.4% of all CPU at 50 clients.
//
// When the server reads the timers it is about to run, the prepared-reads plugin leaves out
// those of noOpOnClosedRun whose run has closed, which it tells from the run's state column
// alone (one prepared query). Those timers fire for nothing only on a closed run, and a closed
// run never runs again (a reset starts a new run; the embedded server is one cluster, with no
// replication to rewrite a closed run), so what the server no longer reads is what it would
// have dropped after the load. Nothing is deleted: the rows go with their range once the
// queue has read past them, as before. Everything else is read as before: other kinds (a
// closed run's retention timer deletes it, a workflow id's execution timeout is checked
// against its current run, user timers and state machines are left to the server), timers
// whose run is running, missing or unreadable, and the queue's look-ahead. An operator's list
// of a shard's timers (tdbg) goes through the same read and does not show the ones left out.

// timerReadAhead is how far ahead of the clock the server reads the timers it runs
// (history.timerProcessorMaxTimeShift, set to it in dynamicConfig): such a read ends within it
// of the clock. The queue's look-ahead, a page of one row that tells it when to wake next,
// reads from there to minutes ahead (history.timerProcessorMaxPollInterval); it is read whole,
// as the plugin reads it (timerPage). Leaving closed runs' timers out there would make it
// read, one query each, every timer of the runs of the last few seconds before the first it
// keeps; left in, they only wake the queue, whose read then leaves them out.
const timerReadAhead = time.Second

// noOpOnClosedRun are the timer kinds whose handler, on a closed run, only loads the run and
// returns (service/history/timer_queue_active_task_executor.go: ErrWorkflowCompleted).
var noOpOnClosedRun = map[enumsspb.TaskType]bool{
	enumsspb.TASK_TYPE_WORKFLOW_TASK_TIMEOUT: true,
	enumsspb.TASK_TYPE_WORKFLOW_RUN_TIMEOUT:  true,
	enumsspb.TASK_TYPE_ACTIVITY_TIMEOUT:      true,
}

// leftOutPerPage bounds one read's work: it leaves out at most this many timers per row of
// its page, then keeps every row, so its page fills and it returns. A range can hold any
// number of closed runs' timers (the first read after a restart covers the whole downtime),
// and a read that overran the queue's I/O deadline (5 s) would fail and be retried from the
// same place for ever, stalling every timer behind it. With the server's pages of 100, a
// read leaves out at most 1,000 timers and so checks the state of at most 1,099 (tens of
// milliseconds; about a second even at a millisecond each). A prediction leaves two such
// timers (its workflow task's timeout and its run's), so one read covers a second of timers
// up to 500 predictions a second. Timers kept past the budget are loaded and dropped by the
// server, as before.
const leftOutPerPage = 10

// RangeSelectFromTimerTasks reads up to f.PageSize of the timers in f's range, as the plugin
// does (through a prepared statement, runreads.go), less those that would fire for nothing.
// The server takes a page shorter than PageSize as the end of the range, so a page that lost
// rows is filled from the rows after it: the page returned is the first PageSize timers of
// the range that are kept, and the next page (which starts after its last row) skips only
// timers left out.
func (db *preparedReadsDB) RangeSelectFromTimerTasks(ctx context.Context, f sqlplugin.TimerTasksRangeFilter) ([]sqlplugin.TimerTasksRow, error) {
	if f.PageSize <= 0 || !f.ExclusiveMaxVisibilityTimestamp.Before(time.Now().Add(2*timerReadAhead)) {
		return db.timerPage(ctx, f) // the look-ahead
	}
	var kept []sqlplugin.TimerTasksRow
	budget := leftOutPerPage * f.PageSize
	for {
		rows, err := db.timerPage(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			if budget > 0 && db.firesForNothing(ctx, f.ShardID, row) {
				budget--
				continue
			}
			if kept = append(kept, row); len(kept) == f.PageSize {
				return kept, nil
			}
		}
		if len(rows) < f.PageSize {
			return kept, nil
		}
		last := rows[len(rows)-1]
		f.InclusiveMinVisibilityTimestamp, f.InclusiveMinTaskID = last.VisibilityTimestamp, last.TaskID+1
	}
}

// runStateRow is the state column of a run's row.
type runStateRow struct {
	State         []byte
	StateEncoding string
}

// firesForNothing reports whether row, a timer of shardID's (the plugin's rows leave their
// shard out), is of noOpOnClosedRun and its run has closed. Whatever it cannot tell is kept,
// for the server to decide as it always did.
func (db *preparedReadsDB) firesForNothing(ctx context.Context, shardID int32, row sqlplugin.TimerTasksRow) bool {
	var timer persistencespb.TimerTaskInfo
	if serialization.Decode(p.NewDataBlob(row.Data, row.DataEncoding), &timer) != nil || !noOpOnClosedRun[timer.GetTaskType()] {
		return false
	}
	namespaceID, err := primitives.ParseUUID(timer.GetNamespaceId())
	if err != nil {
		return false
	}
	runID, err := primitives.ParseUUID(timer.GetRunId())
	if err != nil {
		return false
	}
	run, err := getRow[runStateRow](ctx, db, readRunState, shardID, namespaceID, timer.GetWorkflowId(), runID)
	if err != nil {
		return false
	}
	var state persistencespb.WorkflowExecutionState
	if serialization.Decode(p.NewDataBlob(run.State, run.StateEncoding), &state) != nil {
		return false
	}
	return state.GetState() == enumsspb.WORKFLOW_EXECUTION_STATE_COMPLETED
}
