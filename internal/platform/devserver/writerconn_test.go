package devserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/resolver"
	sqlitedriver "modernc.org/sqlite"
)

// countingConn is the driver's connection, counting what it compiles and the texts it runs
// without keeping a statement.
type countingConn struct {
	connWithContext
	prepared, oneShot *int
}

func (c countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	*c.prepared++
	return c.connWithContext.PrepareContext(ctx, query)
}

func (c countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	*c.oneShot++
	return c.connWithContext.ExecContext(ctx, query, args)
}

func (c countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	*c.oneShot++
	return c.connWithContext.QueryContext(ctx, query, args)
}

// counts are what a keepingDB's connection compiled and ran as text without a kept statement.
type counts struct{ prepared, oneShot int }

// countingConnector opens the driver's connections as countingConns.
type countingConnector struct {
	driver.Connector
	counts *counts
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{connWithContext: conn.(connWithContext), prepared: &c.counts.prepared, oneShot: &c.counts.oneShot}, nil
}

// keepingDB opens a fresh database file on one connection that keeps its statements, and the
// counts of what the driver's connection under it compiles and runs as text.
func keepingDB(t *testing.T) (*sql.DB, *counts) {
	t.Helper()
	connector, err := sqlitedriver.NewConnector(fileURL(filepath.Join(t.TempDir(), "keeping.db")))
	require.NoError(t, err)
	n := &counts{}
	db := sql.OpenDB(keepingConnector{countingConnector{Connector: connector, counts: n}})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	_, err = db.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
	require.NoError(t, err)
	*n = counts{}
	return db, n
}

// keptStatements calls f with db's connection as the statements it keeps.
func keptStatements(t *testing.T, db *sql.DB, f func(c *keepingConn)) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Raw(func(dc any) error {
		c, ok := dc.(*keepingConn)
		require.True(t, ok, "the connection is a %T", dc)
		f(c)
		return nil
	}))
}

func TestKeepingConnCompilesEachTextOnce(t *testing.T) {
	db, n := keepingDB(t)
	const insert = "INSERT INTO notes (id, body) VALUES (?, ?)"
	_, err := db.Exec(insert, 1, "first")
	require.NoError(t, err)
	require.Equal(t, counts{prepared: 1}, *n)

	_, err = db.Exec(insert, 2, nil)
	require.NoError(t, err)
	_, err = db.Exec(insert, 1, "again") // a failed use leaves the statement usable
	require.ErrorContains(t, err, "UNIQUE constraint failed")
	_, err = db.Exec(insert, 3, "third")
	require.NoError(t, err)
	require.Equal(t, counts{prepared: 1}, *n, "the text was compiled again or run without its statement")

	rows, err := db.Query("SELECT id, body FROM notes ORDER BY id")
	require.NoError(t, err)
	got := map[int]sql.NullString{}
	for rows.Next() {
		var id int
		var body sql.NullString
		require.NoError(t, rows.Scan(&id, &body))
		got[id] = body
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, map[int]sql.NullString{1: {String: "first", Valid: true}, 2: {}, 3: {String: "third", Valid: true}}, got)
	require.Equal(t, counts{prepared: 2}, *n)
}

func TestKeepingConnRunsATextWhoseRowsAreOpenOnItsOwn(t *testing.T) {
	db, n := keepingDB(t)
	for i := range 3 {
		_, err := db.Exec("INSERT INTO notes (id, body) VALUES (?, ?)", i, fmt.Sprint("note ", i))
		require.NoError(t, err)
	}
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	const byID = "SELECT body FROM notes WHERE id >= ? ORDER BY id"
	outer, err := tx.Query(byID, 0)
	require.NoError(t, err)
	require.True(t, outer.Next())
	// The same text while the first rows are open: a statement of its own.
	require.Equal(t, []string{"note 1", "note 2"}, bodies(t, tx, byID, 1))
	require.Equal(t, 1, n.oneShot)
	var outerBodies []string
	for ok := true; ok; ok = outer.Next() {
		var body string
		require.NoError(t, outer.Scan(&body))
		outerBodies = append(outerBodies, body)
	}
	require.NoError(t, outer.Close())
	require.Equal(t, []string{"note 0", "note 1", "note 2"}, outerBodies)

	// Closed, the kept statement serves the text again.
	require.Equal(t, []string{"note 2"}, bodies(t, tx, byID, 2))
	require.NoError(t, tx.Commit())
	require.Equal(t, 1, n.oneShot, "closed rows left their statement in use")
}

// bodies reads the one text column of query's rows.
func bodies(t *testing.T, tx *sql.Tx, query string, args ...any) []string {
	t.Helper()
	rows, err := tx.Query(query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var body string
		require.NoError(t, rows.Scan(&body))
		got = append(got, body)
	}
	require.NoError(t, rows.Err())
	return got
}

func TestKeepingConnPushesOutTheLeastRecentlyUsedStatement(t *testing.T) {
	db, _ := keepingDB(t)
	query := func(i int) string { return fmt.Sprintf("SELECT %d AS n, body FROM notes", i) }
	_, err := db.Exec("INSERT INTO notes (id, body) VALUES (1, 'kept')")
	require.NoError(t, err)
	// The oldest statement's rows stay open while it is pushed out: they still read. (In a
	// transaction: open rows hold the one connection.)
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	open, err := tx.Query(query(0))
	require.NoError(t, err)
	for i := 1; i <= maxKeptStatements; i++ {
		var n int
		var body string
		require.NoError(t, tx.QueryRow(query(i)).Scan(&n, &body))
		require.Equal(t, i, n)
	}
	require.True(t, open.Next())
	var n int
	var body string
	require.NoError(t, open.Scan(&n, &body))
	require.Equal(t, "kept", body)
	require.NoError(t, open.Close())
	require.NoError(t, tx.Commit())
	keptStatements(t, db, func(c *keepingConn) {
		require.Equal(t, maxKeptStatements, c.lru.Len())
		require.Len(t, c.kept, maxKeptStatements)
		require.NotContains(t, c.kept, query(0))
		require.Contains(t, c.kept, query(maxKeptStatements))
	})
}

// TestPluginDatabasesKeepTheirStatements: the plugin's databases on a file write through the
// file's one shared connection that keeps its statements, inside transactions too, and the
// writes land in the file.
func TestPluginDatabasesKeepTheirStatements(t *testing.T) {
	conf, err := sqliteStore(filepath.Join(t.TempDir(), "state.db"), "state")
	require.NoError(t, err)
	conf.PluginName = preparedReadsPluginName
	open := func() sqlplugin.DB {
		db, err := tsql.NewSQLDB(sqlplugin.DbKindMain, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	first, second := open(), open()
	writerConns.Lock()
	shared := writerConns.byFile[conf.DatabaseName]
	writerConns.Unlock()
	require.NotNil(t, shared, "the plugin's databases have no shared connection")

	ctx := context.Background()
	k := runKey{shard: 1, namespace: primitives.NewUUID(), workflow: "wf", run: primitives.NewUUID()}
	storeRun(t, first, k, 0, "kept")
	tx, err := second.BeginTx(ctx)
	require.NoError(t, err)
	_, err = tx.UpdateExecutions(ctx, &sqlplugin.ExecutionsRow{ShardID: k.shard, NamespaceID: k.namespace,
		WorkflowID: k.workflow, RunID: k.run, NextEventID: 9, LastWriteVersion: 3, Data: []byte("info"),
		DataEncoding: "Proto3", State: []byte("updated"), StateEncoding: "Proto3", DBRecordVersion: 3})
	require.NoError(t, err)
	require.NoError(t, tx.Commit())

	keptStatements(t, shared.DB, func(c *keepingConn) {
		kept := func(prefix string) bool {
			for text := range c.kept {
				if strings.HasPrefix(text, prefix) {
					return true
				}
			}
			return false
		}
		require.True(t, kept("INSERT INTO executions("), "a write outside a transaction did not run on the shared connection")
		require.True(t, kept("UPDATE executions SET"), "a write in a transaction did not run on the shared connection")
	})
	// Read back on a connection of the test's own: the writes are in the file.
	plain, err := sqlx.Open("sqlite", readerURL(conf.DatabaseName))
	require.NoError(t, err)
	defer plain.Close()
	var state string
	require.NoError(t, plain.Get(&state, "SELECT state FROM executions WHERE run_id = ?", k.run))
	require.Equal(t, "updated", state)
}

func TestAdoptConnectionRefusesAnUnknownDatabase(t *testing.T) {
	type renamed struct {
		database *sqlx.DB
		conn     sqlplugin.Conn
		tx       *sqlx.Tx
	}
	type withPluginDB struct {
		sqlplugin.DB
		*renamed
	}
	err := adoptConnection(withPluginDB{renamed: &renamed{}}, nil)
	require.ErrorContains(t, err, "not a pointer to a struct")
	err = adoptConnection(&withPluginDB{renamed: &renamed{}}, nil)
	require.ErrorContains(t, err, "has no field db")

	type retyped struct {
		sqlplugin.DB
		db *sql.DB
	}
	err = adoptConnection(&retyped{}, nil)
	require.ErrorContains(t, err, "has a field db of type *sql.DB, not *sqlx.DB")

	type inTransaction struct {
		sqlplugin.DB
		db   *sqlx.DB
		conn sqlplugin.Conn
		tx   *sqlx.Tx
	}
	err = adoptConnection(&inTransaction{tx: &sqlx.Tx{}}, nil)
	require.ErrorContains(t, err, "is a transaction")
}
