package models

import (
	"cmp"
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
)

// SQLite compiles every statement it is given as text, and GORM gives it text: each query of
// a prediction (the chatflow, the credential, the saved turn) was compiled anew every time,
// 2% of all CPU at 50 clients. A connection of the Flowgate database therefore keeps the
// statements it ran last compiled, keyed by their text, and runs a repeated query through its
// compiled statement.
//
// The cache lives in the connection, not the pool: a compiled statement belongs to one SQLite
// connection, and database/sql gives a connection to one caller at a time, so no lock is
// taken and no caller waits for another to compile. (GORM's PrepareStmt keeps one cache for
// the pool and prepares a new statement on whichever connection it is given, so callers of
// the same query wait for one another.) Statements run inside a transaction the same way,
// since a statement is not bound to one.

const (
	// stmtCacheSize is how many statements a connection keeps compiled. GORM writes a few
	// dozen distinct queries for what a server does; queries whose text varies (IN lists,
	// inline limits) pass through the cache and push out only the least recently used.
	stmtCacheSize = 64
	// maxCachedQuery is the longest query text kept compiled. Longer ones are batch inserts
	// (a document store's chunks, 200 rows at a time), whose text changes with the batch and
	// whose compiled form takes hundreds of kilobytes: kept, they would push out the short
	// queries that repeat.
	maxCachedQuery = 2048
)

// sqliteConn is what database/sql uses of a modernc.org/sqlite connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteRows is what database/sql uses of the rows of a modernc.org/sqlite query.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// compiledStmt is a statement the driver compiled once and resets after each use.
type compiledStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// stmtCachingConnector opens connections that keep their statements compiled.
type stmtCachingConnector struct {
	driver.Connector
	// size is how many statements a connection keeps; 0 means stmtCacheSize.
	size int
	// compiles counts statements compiled for the cache, over all connections: what a test
	// reads to tell a compiled statement reused from one compiled again.
	compiles atomic.Int64
}

func (c *stmtCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite statement cache: the driver's connection (%T) lacks methods database/sql uses", conn)
	}
	return &stmtCachingConn{sqliteConn: sc, connector: c, size: cmp.Or(c.size, stmtCacheSize),
		byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

// cachedStmt is one compiled statement of a connection.
type cachedStmt struct {
	query string
	stmt  compiledStmt
	// inUse is set while rows of the statement are open: the statement is their cursor, so a
	// second run of the same query on the connection (inside a transaction, say) compiles a
	// statement of its own.
	inUse bool
}

// stmtCachingConn is a SQLite connection with its recently used statements kept compiled,
// most recently used at the front of lru.
type stmtCachingConn struct {
	sqliteConn
	connector *stmtCachingConnector
	size      int
	byQuery   map[string]*list.Element
	lru       *list.List
}

// Unwrap is the driver's connection, which modernc.org/sqlite's functions on a connection
// (sqlite.Limit, and those reached through sql.Conn.Raw) look for behind a wrapper.
func (c *stmtCachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// ExecContext runs query through its compiled statement, compiling it on first use.
func (c *stmtCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

// QueryContext runs query through its compiled statement, compiling it on first use; the
// statement is in use until the rows are closed.
func (c *stmtCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.inUse = true
	r, ok := rows.(sqliteRows)
	if !ok { // not the rows of this driver: its statement stays in use, and is never reused
		return rows, nil
	}
	return &cachedRows{sqliteRows: r, stmt: s}, nil
}

// statement returns query's compiled statement, compiling and keeping it if it is new; nil
// when the query is not to be kept or its statement is in use, for the caller to run the
// query uncached.
func (c *stmtCachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if len(query) > maxCachedQuery {
		return nil, nil
	}
	if e, ok := c.byQuery[query]; ok {
		s := e.Value.(*cachedStmt)
		if s.inUse {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return s, nil
	}
	if c.lru.Len() >= c.size && !c.evict() {
		return nil, nil // every statement kept is in use: run this one uncached
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmt, ok := ds.(compiledStmt)
	if !ok {
		_ = ds.Close()
		return nil, nil
	}
	c.connector.compiles.Add(1)
	s := &cachedStmt{query: query, stmt: stmt}
	c.byQuery[query] = c.lru.PushFront(s)
	return s, nil
}

// evict finalizes the least recently used statement not in use, reporting whether there
// was one.
func (c *stmtCachingConn) evict() bool {
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		s := e.Value.(*cachedStmt)
		if s.inUse {
			continue
		}
		c.lru.Remove(e)
		delete(c.byQuery, s.query)
		// Finalizing returns the error of the statement's last run, which the reset after it
		// has already reported; a statement not in use has been reset.
		_ = s.stmt.Close()
		return true
	}
	return false
}

// Close finalizes the kept statements, then closes the connection: SQLite keeps a connection
// whose statements are not all finalized open, with its files, after it is closed. None is in
// use, since database/sql closes a connection only once its rows are closed.
func (c *stmtCachingConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
	return c.sqliteConn.Close()
}

// cachedRows are the rows of a kept statement; closing them resets the statement for the
// next run.
type cachedRows struct {
	sqliteRows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.sqliteRows.Close()
	r.stmt.inUse = false
	return err
}
