package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"

	"github.com/flowgate/flowgate/models"
)

// visibilityDB opens a fresh visibility database in dir through the named plugin.
func visibilityDB(t *testing.T, dir, plugin string) (sqlplugin.DB, string) {
	t.Helper()
	file := filepath.Join(dir, plugin+".db")
	conf, err := sqliteStore(file, "visibility")
	require.NoError(t, err)
	conf.PluginName = plugin
	db, err := tsql.NewSQLDB(sqlplugin.DbKindVisibility, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, file
}

// storedRows reads every column of every run-list row in file, as SQLite stores them.
func storedRows(t *testing.T, file string) []map[string]any {
	t.Helper()
	db, err := sql.Open("sqlite", models.SQLiteDSN(file, "mode=ro"))
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query("SELECT * FROM executions_visibility ORDER BY run_id")
	require.NoError(t, err)
	defer rows.Close()
	columns, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]any
	for rows.Next() {
		values := make([]any, len(columns))
		pointers := make([]any, len(columns))
		for i := range values {
			pointers[i] = &values[i]
		}
		require.NoError(t, rows.Scan(pointers...))
		row := map[string]any{}
		for i, column := range columns {
			row[column] = values[i]
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// fullRow is a run-list row with every field set, search attributes of every stored form
// included.
func fullRow(t *testing.T, runID string, version int64) *sqlplugin.VisibilityRow {
	t.Helper()
	at := time.Date(2026, 12, 4, 10, 11, 12, 123456789, time.FixedZone("CET", 3600))
	closed := at.Add(1500 * time.Millisecond)
	length, size, duration, transitions := int64(7), int64(2048), int64(1500*time.Millisecond), int64(9)
	parentID, parentRun := "parent-wf", "parent-run"
	attrs := sqlplugin.VisibilitySearchAttributes{
		"Keyword01":     "flow-1",
		"KeywordList01": []string{"a", "b c"},
		"Datetime01":    at,
		"Int01":         int64(42),
		"Double01":      2.5,
		"Bool01":        true,
		"Text01":        "some words",
	}
	row := &sqlplugin.VisibilityRow{
		NamespaceID: "ns-1", RunID: runID, WorkflowTypeName: "prediction", WorkflowID: "chat:" + runID,
		StartTime: at, ExecutionTime: time.Time{}, Status: 2, CloseTime: &closed,
		HistoryLength: &length, HistorySizeBytes: &size, ExecutionDuration: &duration, StateTransitionCount: &transitions,
		Memo: []byte("memo"), Encoding: "Proto3", TaskQueue: "flowgate", SearchAttributes: &attrs,
		ParentWorkflowID: &parentID, ParentRunID: &parentRun, RootWorkflowID: "root-wf", RootRunID: "root-run",
		Version: version,
	}
	// A field Temporal adds to the row must be looked at here: the batched writes bind the
	// row's fields by position.
	fields := reflect.ValueOf(*row)
	for i := range fields.NumField() {
		if fields.Type().Field(i).Name != "ExecutionTime" { // zero on purpose: stored as the minimum date
			require.False(t, fields.Field(i).IsZero(), "fullRow leaves %s unset", fields.Type().Field(i).Name)
		}
	}
	return row
}

// TestBatchedVisibilityStoresWhatThePluginStores: the batched run-list writes leave the
// visibility table exactly as Temporal's SQLite plugin does (every column, generated ones
// included, so the UI's queries find the same runs), report the same affected rows, and read
// back the same row.
func TestBatchedVisibilityStoresWhatThePluginStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Now()
	plain, plainFile := visibilityDB(t, dir, "sqlite")
	batched, batchedFile := visibilityDB(t, dir, batchedPluginName)

	type op struct {
		name string
		do   func(db sqlplugin.DB) (sql.Result, error)
	}
	row := func(run string, version int64) *sqlplugin.VisibilityRow { return fullRow(t, run, version) }
	older := row("run-1", 1)
	older.Status = 1
	ops := []op{
		{"insert", func(db sqlplugin.DB) (sql.Result, error) { return db.InsertIntoVisibility(ctx, row("run-1", 2)) }},
		{"insert again", func(db sqlplugin.DB) (sql.Result, error) { return db.InsertIntoVisibility(ctx, row("run-1", 3)) }},
		{"upsert newer", func(db sqlplugin.DB) (sql.Result, error) { return db.ReplaceIntoVisibility(ctx, row("run-1", 5)) }},
		{"upsert older", func(db sqlplugin.DB) (sql.Result, error) { return db.ReplaceIntoVisibility(ctx, older) }},
		{"upsert new run", func(db sqlplugin.DB) (sql.Result, error) { return db.ReplaceIntoVisibility(ctx, row("run-2", 1)) }},
		{"upsert third run", func(db sqlplugin.DB) (sql.Result, error) { return db.ReplaceIntoVisibility(ctx, row("run-3", 1)) }},
		{"start record", func(db sqlplugin.DB) (sql.Result, error) {
			// As a run's start is recorded: no close time, no counters, no attributes.
			return db.InsertIntoVisibility(ctx, &sqlplugin.VisibilityRow{NamespaceID: "ns-1", RunID: "run-4",
				WorkflowTypeName: "prediction", WorkflowID: "chat:run-4", StartTime: now, ExecutionTime: now,
				Status: 1, Encoding: "Proto3", TaskQueue: "flowgate", RootWorkflowID: "chat:run-4", RootRunID: "run-4", Version: 1})
		}},
		{"delete", func(db sqlplugin.DB) (sql.Result, error) {
			return db.DeleteFromVisibility(ctx, sqlplugin.VisibilityDeleteFilter{NamespaceID: "ns-1", RunID: "run-3"})
		}},
	}
	for _, o := range ops {
		want, err := o.do(plain)
		require.NoError(t, err, o.name)
		got, err := o.do(batched)
		require.NoError(t, err, o.name)
		wantN, err := want.RowsAffected()
		require.NoError(t, err)
		gotN, err := got.RowsAffected()
		require.NoError(t, err)
		require.Equal(t, wantN, gotN, "%s: rows affected", o.name)
		require.Equal(t, storedRows(t, plainFile), storedRows(t, batchedFile), "after %s", o.name)
	}
	stored := storedRows(t, batchedFile)
	require.Len(t, stored, 3)
	require.EqualValues(t, 5, stored[0]["_version"], "the newer upsert won, the older changed nothing")

	for _, run := range []string{"run-1", "run-2", "run-4"} {
		want, err := plain.GetFromVisibility(ctx, sqlplugin.VisibilityGetFilter{NamespaceID: "ns-1", RunID: run})
		require.NoError(t, err)
		got, err := batched.GetFromVisibility(ctx, sqlplugin.VisibilityGetFilter{NamespaceID: "ns-1", RunID: run})
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

// holdWriteLock takes file's write lock on a connection of its own, as another writer would;
// the returned function releases it.
func holdWriteLock(t *testing.T, file string) func() {
	t.Helper()
	db, err := sql.Open("sqlite", models.SQLiteDSN(file, "_pragma=busy_timeout=10000"))
	require.NoError(t, err)
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	return func() {
		_, err := conn.ExecContext(context.Background(), "COMMIT")
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		require.NoError(t, db.Close())
	}
}

// writerOf opens db's run-list writer.
func writerOf(t *testing.T, db sqlplugin.DB) *visibilityWriter {
	t.Helper()
	w, err := db.(*batchedDB).openWriter()
	require.NoError(t, err)
	return w
}

// TestBatchedVisibilityWritesWaitForTheirCommit: writes that arrive while a transaction waits
// for SQLite's write lock queue up behind it, and no caller returns before its write is
// stored.
func TestBatchedVisibilityWritesWaitForTheirCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, file := visibilityDB(t, t.TempDir(), batchedPluginName)
	w := writerOf(t, db)

	release := holdWriteLock(t, file)
	const writes = 40
	var wg sync.WaitGroup
	var entered, returned atomic.Int32
	errs := make([]error, writes)
	for i := range errs {
		args := visibilityArgs(fullRow(t, fmt.Sprintf("run-%02d", i), 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			entered.Add(1)
			_, errs[i] = w.write(ctx, upsertWrite, args)
			returned.Add(1)
		}()
	}
	require.Eventually(t, func() bool { return entered.Load() == writes && len(w.queue) > 0 }, 10*time.Second, time.Millisecond)
	require.Zero(t, returned.Load(), "a write was acknowledged before it could be stored")
	require.Empty(t, storedRows(t, file))
	release()
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "write %d", i)
	}
	require.Len(t, storedRows(t, file), writes)
}

// TestBatchedVisibilityFailureStaysWithItsWrite: when one write of a shared transaction fails,
// the others are stored all the same and only its caller gets the error.
func TestBatchedVisibilityFailureStaysWithItsWrite(t *testing.T) {
	db, file := visibilityDB(t, t.TempDir(), batchedPluginName)
	w := writerOf(t, db)
	const bad = 2
	batch := make([]*pendingWrite, 5)
	for i := range batch {
		args := visibilityArgs(fullRow(t, fmt.Sprintf("run-%d", i), 1))
		if i == bad {
			args = args[:3] // too few values: the statement fails inside the transaction
		}
		batch[i] = &pendingWrite{ctx: context.Background(), kind: upsertWrite, args: args, done: make(chan writeResult, 1)}
	}
	w.commit(batch)
	for i, p := range batch {
		r := <-p.done
		if i == bad {
			require.Error(t, r.err)
			continue
		}
		require.NoError(t, r.err, "write %d", i)
		n, err := r.res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	}
	require.Len(t, storedRows(t, file), len(batch)-1)
}

// TestBatchedVisibilityWaitsEnd: a caller waiting on a write stops at its own deadline, and
// once the store is closed writes fail at once.
func TestBatchedVisibilityWaitsEnd(t *testing.T) {
	db, file := visibilityDB(t, t.TempDir(), batchedPluginName)
	w := writerOf(t, db)

	release := holdWriteLock(t, file)
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := w.write(short, upsertWrite, visibilityArgs(fullRow(t, "run-1", 1)))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	release()

	require.NoError(t, db.Close())
	_, err = w.write(context.Background(), upsertWrite, visibilityArgs(fullRow(t, "run-2", 1)))
	require.ErrorIs(t, err, errWriterClosed)
	_, err = db.ReplaceIntoVisibility(context.Background(), fullRow(t, "run-2", 1))
	require.ErrorIs(t, err, errWriterClosed)
}
