package models

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	modernc "modernc.org/sqlite"
)

// cachingDB opens a fresh SQLite file through the statement cache, keeping size statements
// (0: stmtCacheSize), on one connection so that every statement meets the same cache.
func cachingDB(t *testing.T, size int) (*sql.DB, *stmtCachingConnector, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "cache.sqlite")
	connector, err := modernc.NewConnector(SQLiteDSN(file, "_pragma=journal_mode(WAL)"))
	require.NoError(t, err)
	c := &stmtCachingConnector{Connector: connector, size: size}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
	require.NoError(t, err)
	return db, c, file
}

// kept is the number of statements the pool's one connection keeps compiled.
func kept(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	n := -1
	require.NoError(t, conn.Raw(func(dc any) error {
		n = len(dc.(*stmtCachingConn).byQuery)
		return nil
	}))
	return n
}

func TestRepeatedQueriesAreCompiledOnce(t *testing.T) {
	db, c, _ := cachingDB(t, 0)
	before := c.compiles.Load()
	for i := range 50 {
		_, err := db.Exec(`INSERT INTO t (id, name) VALUES (?, ?)`, i, fmt.Sprintf("row %d", i))
		require.NoError(t, err)
	}
	for i := range 50 {
		var name string
		require.NoError(t, db.QueryRow(`SELECT name FROM t WHERE id = ?`, i).Scan(&name))
		require.Equal(t, fmt.Sprintf("row %d", i), name, "a reused statement binds each call's arguments")
	}
	require.EqualValues(t, 2, c.compiles.Load()-before, "one compile for the insert, one for the select")
}

func TestSameQueryWhileItsRowsAreOpen(t *testing.T) {
	db, _, _ := cachingDB(t, 0)
	for i := range 6 {
		_, err := db.Exec(`INSERT INTO t (id, name) VALUES (?, ?)`, i, fmt.Sprintf("row %d", i))
		require.NoError(t, err)
	}
	const q = `SELECT id FROM t WHERE id >= ? ORDER BY id`
	tx, err := db.Begin() // one connection for both queries
	require.NoError(t, err)
	defer tx.Rollback()
	outer, err := tx.Query(q, 0)
	require.NoError(t, err)
	var got []int
	for outer.Next() {
		var id int
		require.NoError(t, outer.Scan(&id))
		got = append(got, id)
		if id == 2 { // the same query, other arguments, while the first one's rows are open
			var inner []int
			rows, err := tx.Query(q, 4)
			require.NoError(t, err)
			for rows.Next() {
				var id int
				require.NoError(t, rows.Scan(&id))
				inner = append(inner, id)
			}
			require.NoError(t, rows.Err())
			require.NoError(t, rows.Close())
			require.Equal(t, []int{4, 5}, inner)
		}
	}
	require.NoError(t, outer.Err())
	require.Equal(t, []int{0, 1, 2, 3, 4, 5}, got, "the open rows keep their own cursor")
}

func TestCacheKeepsAtMostItsSize(t *testing.T) {
	db, c, _ := cachingDB(t, 0)
	before := c.compiles.Load()
	query := func(i int) {
		var n int
		require.NoError(t, db.QueryRow(fmt.Sprintf(`SELECT %d + count(*) FROM t`, i)).Scan(&n))
		require.Equal(t, i, n)
	}
	for i := range stmtCacheSize + 10 {
		query(i)
	}
	require.Equal(t, stmtCacheSize, kept(t, db))
	// The first ten were pushed out, least recently used first, and are compiled again.
	for i := range 10 {
		query(i)
	}
	require.EqualValues(t, stmtCacheSize+20, c.compiles.Load()-before)
}

func TestFailedStatementRunsAgain(t *testing.T) {
	db, _, _ := cachingDB(t, 0)
	const insert = `INSERT INTO t (id, name) VALUES (?, ?)`
	_, err := db.Exec(insert, 1, "first")
	require.NoError(t, err)
	_, err = db.Exec(insert, 1, "again")
	require.ErrorContains(t, err, "UNIQUE constraint failed")
	_, err = db.Exec(insert, 2, "second")
	require.NoError(t, err, "a statement that failed is reset for its next run")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = db.ExecContext(ctx, insert, 3, "never")
	require.ErrorIs(t, err, context.Canceled)
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM t`).Scan(&n))
	require.Equal(t, 2, n)
}

func TestSchemaChangeSeenByKeptStatement(t *testing.T) {
	db, c, _ := cachingDB(t, 0)
	_, err := db.Exec(`INSERT INTO t (id, name) VALUES (1, 'a')`)
	require.NoError(t, err)
	columns := func() []string {
		rows, err := db.Query(`SELECT * FROM t`)
		require.NoError(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		require.NoError(t, err)
		return cols
	}
	require.Equal(t, []string{"id", "name"}, columns())
	_, err = db.Exec(`ALTER TABLE t ADD COLUMN note TEXT`)
	require.NoError(t, err)
	compiles := c.compiles.Load()
	require.Equal(t, []string{"id", "name", "note"}, columns(), "a kept statement is compiled again after a migration")
	require.Equal(t, compiles, c.compiles.Load(), "by SQLite, through the statement kept")
}

func TestLeastRecentlyUsedIsPushedOut(t *testing.T) {
	db, c, _ := cachingDB(t, 2)
	run := func(q string) {
		var n int
		require.NoError(t, db.QueryRow(q).Scan(&n))
	}
	const a, b, cq = `SELECT 1`, `SELECT 2`, `SELECT 3`
	run(a)
	run(b)
	run(a) // a is now the most recently used
	run(cq)
	compiles := c.compiles.Load()
	run(a)
	require.Equal(t, compiles, c.compiles.Load(), "a was used after b, so b was pushed out")
	run(b)
	require.Equal(t, compiles+1, c.compiles.Load())
}

func TestStatementInUseIsNotPushedOut(t *testing.T) {
	db, _, _ := cachingDB(t, 2)
	for i := range 4 {
		_, err := db.Exec(`INSERT INTO t (id, name) VALUES (?, ?)`, i, fmt.Sprintf("row %d", i))
		require.NoError(t, err)
	}
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	rows, err := tx.Query(`SELECT name FROM t ORDER BY id`)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		got = append(got, name)
		// Two other statements while the rows are open, on a connection keeping two: the
		// one under the rows must stay.
		for _, q := range []string{`SELECT count(*) FROM t`, `SELECT max(id) FROM t`} {
			var n int
			require.NoError(t, tx.QueryRow(q).Scan(&n))
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"row 0", "row 1", "row 2", "row 3"}, got)
}

func TestLongQueriesAreNotKept(t *testing.T) {
	db, c, _ := cachingDB(t, 0)
	long := `SELECT 1` + strings.Repeat(" ", maxCachedQuery)
	compiles, before := c.compiles.Load(), kept(t, db)
	for range 3 {
		var n int
		require.NoError(t, db.QueryRow(long).Scan(&n))
		require.Equal(t, 1, n)
	}
	require.Equal(t, compiles, c.compiles.Load())
	require.Equal(t, before, kept(t, db))
}

func TestClosedConnectionLetsGoOfItsFiles(t *testing.T) {
	db, _, file := cachingDB(t, 0)
	_, err := db.Exec(`INSERT INTO t (id, name) VALUES (1, 'a')`)
	require.NoError(t, err)
	var name string
	require.NoError(t, db.QueryRow(`SELECT name FROM t WHERE id = ?`, 1).Scan(&name))
	require.Positive(t, kept(t, db))
	require.NoError(t, db.Close())
	// The last connection to close checkpoints the write-ahead log and deletes it; one left
	// open by a statement not finalized would keep it.
	require.NoFileExists(t, file+"-wal")
}

func TestOpenKeepsStatementsCompiled(t *testing.T) {
	db, err := Open(context.Background(), DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	sqlDB, err := db.DB()
	require.NoError(t, err)
	defer sqlDB.Close()
	conn, err := sqlDB.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Raw(func(dc any) error {
		require.IsType(t, &stmtCachingConn{}, dc)
		return nil
	}))
}
