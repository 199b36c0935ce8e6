package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Temporal's SQLite plugin writes each run-list record in a transaction of its own, from a
// statement it hands SQLite as text every time. SQLite compiles that upsert anew for every
// record (the executions_visibility table has some sixty generated columns and two full-text
// triggers) and commits each one to the WAL by itself: at 50 concurrent predictions the close
// records took a tenth of the process's CPU, 4% compiling and 3% committing.
//
// The embedded server's visibility store therefore uses batchedPluginName, which is Temporal's
// SQLite plugin with its three run-list writes (insert, upsert, delete) taken over: they run
// as statements prepared once, and the writes that arrive while one transaction commits go
// into the next one together (a group commit). Each caller still returns only once its write
// is committed, so what the visibility queue acknowledges is on disk as before. Reads and every
// other table are the plugin's own, and the store still reports the plugin's name, so the
// server treats it as SQLite visibility in every respect.
const batchedPluginName = "flowgate-sqlite-batched-visibility"

func init() {
	tsql.RegisterPlugin(batchedPluginName, wrappingPlugin{wrap: func(plain pluginDB, file string) sqlplugin.GenericDB {
		return &batchedDB{pluginDB: plain, file: file}
	}})
}

// batchedDB is the plugin's database with the run-list writes going through a writer, opened
// at the first write. Transactions from BeginTx are the plugin's own; the visibility store
// writes the run list without one.
type batchedDB struct {
	pluginDB
	file   string
	writer opener[*visibilityWriter]
}

var (
	_ sqlplugin.DB      = (*batchedDB)(nil)
	_ sqlplugin.AdminDB = (*batchedDB)(nil)
)

func (db *batchedDB) InsertIntoVisibility(ctx context.Context, row *sqlplugin.VisibilityRow) (sql.Result, error) {
	return db.writeRow(ctx, insertWrite, row)
}

func (db *batchedDB) ReplaceIntoVisibility(ctx context.Context, row *sqlplugin.VisibilityRow) (sql.Result, error) {
	return db.writeRow(ctx, upsertWrite, row)
}

func (db *batchedDB) DeleteFromVisibility(ctx context.Context, filter sqlplugin.VisibilityDeleteFilter) (sql.Result, error) {
	w, err := db.openWriter()
	if err != nil {
		return nil, err
	}
	return w.write(ctx, deleteWrite, []any{filter.NamespaceID, filter.RunID})
}

func (db *batchedDB) writeRow(ctx context.Context, kind writeKind, row *sqlplugin.VisibilityRow) (sql.Result, error) {
	if row == nil {
		return nil, errors.New("devserver: no run-list row to write")
	}
	w, err := db.openWriter()
	if err != nil {
		return nil, err
	}
	return w.write(ctx, kind, visibilityArgs(row))
}

func (db *batchedDB) openWriter() (*visibilityWriter, error) {
	return db.writer.get(func() (*visibilityWriter, error) { return openVisibilityWriter(db.file) }, errWriterClosed)
}

func (db *batchedDB) Close() error { return db.writer.closeWith(db.pluginDB) }

// The statements are those of Temporal's plugin, with positional parameters in the order of
// sqlplugin.DbFields, which lists VisibilityRow's fields in their order, _version last (an
// upsert older than the stored row changes nothing).
var (
	visibilityColumns = strings.Join(sqlplugin.DbFields, ", ")
	visibilityValues  = strings.TrimSuffix(strings.Repeat("?, ", len(sqlplugin.DbFields)), ", ")
	insertVisibility  = "INSERT INTO executions_visibility (" + visibilityColumns + ") VALUES (" + visibilityValues +
		") ON CONFLICT (namespace_id, run_id) DO NOTHING"
	upsertVisibility = "INSERT INTO executions_visibility (" + visibilityColumns + ") VALUES (" + visibilityValues +
		") ON CONFLICT (namespace_id, run_id) DO UPDATE SET " + excludedAssignments() +
		" WHERE executions_visibility." + sqlplugin.VersionColumnName + " < excluded." + sqlplugin.VersionColumnName
	deleteVisibility = "DELETE FROM executions_visibility WHERE namespace_id = ? AND run_id = ?"
)

func excludedAssignments() string {
	set := make([]string, len(sqlplugin.DbFields))
	for i, field := range sqlplugin.DbFields {
		set[i] = field + " = excluded." + field
	}
	return strings.Join(set, ", ")
}

// The stored forms Temporal's SQLite plugin gives a row's values, which its queries compare
// against: times as sqliteTime stores them, keyword lists joined by its separator and time
// attributes as RFC 3339 text.
const keywordListSeparator = "♡"

// visibilityArgs are row's values in the order of sqlplugin.DbFields, in their stored forms.
func visibilityArgs(row *sqlplugin.VisibilityRow) []any {
	stored := *row
	stored.StartTime = sqliteTime(row.StartTime)
	stored.ExecutionTime = sqliteTime(row.ExecutionTime)
	if row.CloseTime != nil {
		closed := sqliteTime(*row.CloseTime)
		stored.CloseTime = &closed
	}
	if row.SearchAttributes != nil {
		attrs := make(sqlplugin.VisibilitySearchAttributes, len(*row.SearchAttributes))
		for name, value := range *row.SearchAttributes {
			switch v := value.(type) {
			case []string:
				attrs[name] = strings.Join(v, keywordListSeparator)
			case time.Time:
				attrs[name] = v.Format(time.RFC3339Nano)
			default:
				attrs[name] = v
			}
		}
		stored.SearchAttributes = &attrs
	}
	fields := reflect.ValueOf(stored)
	args := make([]any, fields.NumField())
	for i := range args {
		args[i] = fields.Field(i).Interface()
	}
	return args
}

// visibilityBatch bounds how many writes share a transaction: enough to absorb the visibility
// queue's bursts (it reads up to VisibilityTaskBatchSize tasks at once), few enough that one
// transaction holds SQLite's write lock for milliseconds.
const visibilityBatch = 256

// visibilityWriteTimeout bounds one transaction, lock wait included.
const visibilityWriteTimeout = 10 * time.Second

// A writeKind is one of the three run-list writes, an index into visibilityWriter.stmts.
type writeKind int

const (
	insertWrite writeKind = iota
	upsertWrite
	deleteWrite
)

var writeStatements = [...]string{insertWrite: insertVisibility, upsertWrite: upsertVisibility, deleteWrite: deleteVisibility}

// A visibilityWriter commits run-list writes in shared transactions on a connection of its own.
type visibilityWriter struct {
	db            *sql.DB
	stmts         [len(writeStatements)]*sql.Stmt
	queue         chan *pendingWrite
	stop, stopped chan struct{}
	closeOnce     sync.Once
}

type pendingWrite struct {
	ctx  context.Context
	kind writeKind
	args []any
	done chan writeResult // buffered: the writer never waits for a caller
}

type writeResult struct {
	res sql.Result
	err error
}

var errWriterClosed = errors.New("devserver: the run-list writer is closed")

// writerURL is the writer's connection to file: the server's own settings, a wait for the
// write lock, which another connection can hold, and statement journals in memory: each
// upsert of a shared transaction keeps one, to undo that statement alone, and in a temporary
// file that cost a write system call per record.
func writerURL(file string) string {
	return fileURL(file, "_pragma=busy_timeout=10000", "_pragma=temp_store=memory")
}

func openVisibilityWriter(file string) (*visibilityWriter, error) {
	db, err := sql.Open("sqlite", writerURL(file))
	if err != nil {
		return nil, fmt.Errorf("devserver: open %s for run-list writes: %w", file, err)
	}
	// One connection, never recycled: it holds the prepared statements.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	w := &visibilityWriter{db: db, queue: make(chan *pendingWrite, visibilityBatch),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	for kind, query := range writeStatements {
		if w.stmts[kind], err = db.Prepare(query); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("devserver: prepare run-list write in %s: %w", file, err)
		}
	}
	go w.run()
	return w, nil
}

// write queues one write and waits until its transaction commits, or ctx ends.
func (w *visibilityWriter) write(ctx context.Context, kind writeKind, args []any) (sql.Result, error) {
	p := &pendingWrite{ctx: ctx, kind: kind, args: args, done: make(chan writeResult, 1)}
	select {
	case w.queue <- p:
	case <-w.stop:
		return nil, errWriterClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-p.done:
		return r.res, r.err
	case <-w.stopped:
		select { // its transaction may have been the writer's last
		case r := <-p.done:
			return r.res, r.err
		default:
			return nil, errWriterClosed
		}
	case <-ctx.Done():
		// The write may still commit. The visibility queue writes again what it did not see
		// stored, and a run's records carry versions, so a late upsert changes nothing newer.
		return nil, ctx.Err()
	}
}

func (w *visibilityWriter) run() {
	defer close(w.stopped)
	for {
		var batch []*pendingWrite
		select {
		case p := <-w.queue:
			batch = append(batch, p)
		case <-w.stop:
			return
		}
	more:
		for len(batch) < visibilityBatch {
			select {
			case p := <-w.queue:
				batch = append(batch, p)
			default:
				break more
			}
		}
		w.commit(batch)
	}
}

// commit writes batch in one transaction. When one write fails, the transaction is undone,
// that write fails alone and the others go into another; when the transaction as a whole
// fails (its lock wait or deadline, its commit), every write in it fails.
func (w *visibilityWriter) commit(batch []*pendingWrite) {
	for len(batch) > 0 {
		results, failed, err := w.transact(batch)
		switch {
		case err == nil:
			for i, p := range batch {
				p.done <- results[i]
			}
			return
		case failed < 0:
			for _, p := range batch {
				p.done <- writeResult{err: err}
			}
			return
		}
		batch[failed].done <- writeResult{err: err}
		batch = slices.Concat(batch[:failed], batch[failed+1:]) // a copy: the caller's slice stays whole
	}
}

// transact runs batch in one transaction. On error, failed is the index of the write that
// failed, or -1 if the transaction did.
func (w *visibilityWriter) transact(batch []*pendingWrite) (results []writeResult, failed int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), visibilityWriteTimeout)
	defer cancel()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, -1, fmt.Errorf("devserver: begin run-list writes: %w", err)
	}
	var stmts [len(writeStatements)]*sql.Stmt
	results = make([]writeResult, len(batch))
	for i, p := range batch {
		if p.ctx.Err() != nil { // its caller has gone; the task that wanted it will retry
			results[i].err = p.ctx.Err()
			continue
		}
		if stmts[p.kind] == nil {
			stmts[p.kind] = tx.StmtContext(ctx, w.stmts[p.kind])
		}
		if results[i].res, err = stmts[p.kind].ExecContext(ctx, p.args...); err != nil {
			_ = tx.Rollback()
			if ctx.Err() != nil || isLockError(err) { // not this write's fault
				return nil, -1, fmt.Errorf("devserver: run-list writes: %w", err)
			}
			return nil, i, fmt.Errorf("devserver: run-list write: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, -1, fmt.Errorf("devserver: commit run-list writes: %w", err)
	}
	return results, -1, nil
}

// isLockError reports whether err is SQLite's giving up a wait for a lock (SQLITE_BUSY,
// SQLITE_LOCKED and their extended codes).
func isLockError(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// close stops the writer once the transaction in progress ends; writes still queued fail.
func (w *visibilityWriter) close() error {
	var err error
	w.closeOnce.Do(func() {
		close(w.stop)
		<-w.stopped
		err = w.db.Close()
	})
	return err
}
