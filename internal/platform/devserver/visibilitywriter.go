package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/resolver"
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

func init() { tsql.RegisterPlugin(batchedPluginName, batchedPlugin{}) }

type batchedPlugin struct{}

func (batchedPlugin) GetVisibilityQueryConverter() sqlplugin.VisibilityQueryConverter {
	converter, err := tsql.GetPluginVisibilityQueryConverter(sqliteplugin.PluginName)
	if err != nil { // the plugin registers itself when its package is imported, as it is here
		panic(err)
	}
	return converter
}

func (batchedPlugin) CreateDB(kind sqlplugin.DbKind, cfg *config.SQL, r resolver.ServiceResolver,
	logger log.Logger, mh metrics.Handler) (sqlplugin.GenericDB, error) {
	plain := *cfg
	plain.PluginName = sqliteplugin.PluginName
	db, err := tsql.NewSQLDB(kind, &plain, r, logger, mh)
	if err != nil {
		return nil, err
	}
	// The same database serves the server's schema version check, as an AdminDB.
	admin, ok := db.(sqlplugin.AdminDB)
	if !ok {
		_ = db.Close()
		return nil, fmt.Errorf("devserver: the %s plugin's database is not an admin database", sqliteplugin.PluginName)
	}
	w, err := openVisibilityWriter(cfg.DatabaseName)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &batchedDB{DB: db, AdminCRUD: admin, admin: admin, writer: w}, nil
}

// batchedDB is the plugin's database with the run-list writes going through writer.
type batchedDB struct {
	sqlplugin.DB
	sqlplugin.AdminCRUD
	admin  sqlplugin.AdminDB
	writer *visibilityWriter
}

func (db *batchedDB) ExpectedVersion() string { return db.admin.ExpectedVersion() }
func (db *batchedDB) VerifyVersion() error    { return db.admin.VerifyVersion() }

func (db *batchedDB) InsertIntoVisibility(ctx context.Context, row *sqlplugin.VisibilityRow) (sql.Result, error) {
	return db.writer.write(ctx, db.writer.insert, visibilityArgs(row))
}

func (db *batchedDB) ReplaceIntoVisibility(ctx context.Context, row *sqlplugin.VisibilityRow) (sql.Result, error) {
	return db.writer.write(ctx, db.writer.upsert, visibilityArgs(row))
}

func (db *batchedDB) DeleteFromVisibility(ctx context.Context, filter sqlplugin.VisibilityDeleteFilter) (sql.Result, error) {
	return db.writer.write(ctx, db.writer.delete, []any{filter.NamespaceID, filter.RunID})
}

var (
	_ sqlplugin.DB      = (*batchedDB)(nil)
	_ sqlplugin.AdminDB = (*batchedDB)(nil)
)

func (db *batchedDB) Close() error {
	return errors.Join(db.writer.close(), db.DB.Close())
}

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
// against: times in UTC to the microsecond, the zero time as its minimum date, keyword lists
// joined by its separator and time attributes as RFC 3339 text.
var sqliteMinDateTime = time.Date(1000, time.January, 1, 0, 0, 0, 0, time.UTC)

const keywordListSeparator = "♡"

func sqliteTime(t time.Time) time.Time {
	if t.IsZero() {
		return sqliteMinDateTime
	}
	return t.UTC().Truncate(time.Microsecond)
}

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

// A visibilityWriter commits run-list writes in shared transactions on a connection of its own.
type visibilityWriter struct {
	db                     *sql.DB
	insert, upsert, delete *sql.Stmt
	queue                  chan *pendingWrite
	stop, stopped          chan struct{}
	closeOnce              sync.Once
}

type pendingWrite struct {
	ctx  context.Context
	stmt *sql.Stmt
	args []any
	done chan writeResult // buffered: the writer never waits for a caller
}

type writeResult struct {
	res sql.Result
	err error
}

func openVisibilityWriter(file string) (*visibilityWriter, error) {
	// The parameters of the plugin's own connection, so that times are stored in the same form
	// (_time_format); a wait for the write lock, which the plugin's connection can hold; and
	// statement journals in memory: each upsert of a shared transaction keeps one, to undo
	// that statement alone, and in a temporary file that cost a write system call per record.
	db, err := sql.Open("sqlite", sqliteURL(file, "mode=rwc&_pragma=journal_mode%3Dwal&_pragma=synchronous%3Dnormal"+
		"&_pragma=busy_timeout%3D10000&_pragma=temp_store%3Dmemory&_time_format=sqlite"))
	if err != nil {
		return nil, fmt.Errorf("devserver: open %s for run-list writes: %w", file, err)
	}
	// One connection, never recycled: it holds the prepared statements.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	w := &visibilityWriter{db: db, queue: make(chan *pendingWrite, visibilityBatch),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	for _, s := range []struct {
		stmt  **sql.Stmt
		query string
	}{{&w.insert, insertVisibility}, {&w.upsert, upsertVisibility}, {&w.delete, deleteVisibility}} {
		if *s.stmt, err = db.Prepare(s.query); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("devserver: prepare run-list write in %s: %w", file, err)
		}
	}
	go w.run()
	return w, nil
}

// write queues one write and waits until its transaction commits, or ctx ends.
func (w *visibilityWriter) write(ctx context.Context, stmt *sql.Stmt, args []any) (sql.Result, error) {
	p := &pendingWrite{ctx: ctx, stmt: stmt, args: args, done: make(chan writeResult, 1)}
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
		return nil, errWriterClosed
	case <-ctx.Done():
		// The write may still commit; every run-list write can be repeated.
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

// commit writes batch in one transaction. If that fails, each write is tried in a transaction
// of its own, so that one bad row fails only its own caller.
func (w *visibilityWriter) commit(batch []*pendingWrite) {
	results, err := w.transact(batch)
	if err == nil {
		for i, p := range batch {
			p.done <- results[i]
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- writeResult{err: err}
		return
	}
	for _, p := range batch {
		w.commit([]*pendingWrite{p})
	}
}

func (w *visibilityWriter) transact(batch []*pendingWrite) ([]writeResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), visibilityWriteTimeout)
	defer cancel()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("devserver: begin run-list writes: %w", err)
	}
	results := make([]writeResult, len(batch))
	for i, p := range batch {
		if p.ctx.Err() != nil { // its caller has gone; the task that wanted it will retry
			results[i].err = p.ctx.Err()
			continue
		}
		if results[i].res, err = tx.StmtContext(ctx, p.stmt).ExecContext(ctx, p.args...); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("devserver: run-list write: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("devserver: commit run-list writes: %w", err)
	}
	return results, nil
}

var errWriterClosed = errors.New("devserver: the run-list writer is closed")

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
