package devserver

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
)

// Temporal's SQLite plugin runs every query as text (sqlx's Exec, Select and Get), and the
// SQLite driver compiles text anew each time, then throws the compiled statement away. On the
// server's one writing connection that is about thirty compilations a prediction, while the
// history shard lets one write through at a time (its I/O semaphore): 6.8% of all CPU at 50
// clients, and 29% of the time a run's creation and its one update spent in the shard's writes.
//
// A keepingConn is a connection that keeps what it compiled: it answers a query with the
// statement it compiled for the same text before, and compiles text it has not seen into a
// statement it keeps. SQLite recompiles a kept statement by itself when the schema changes
// under it; the driver resets a statement after every use, and every use binds all of the
// statement's arguments afresh.

// maxKeptStatements bounds a connection's kept statements. The plugin's queries are a few dozen
// texts, but those with IN lists have a text per list length; the least recently used statement
// goes first.
const maxKeptStatements = 256

// keepingConnector opens connections that keep their compiled statements.
type keepingConnector struct{ driver.Connector }

func (c keepingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	kc, err := newKeepingConn(conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return kc, nil
}

// connWithContext is what database/sql needs of a connection to run a query or a transaction
// under a context, which the SQLite driver's connections all have.
type connWithContext interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

// keepingConn is a connection with the statements it compiled, by text. It needs no lock of its
// own: database/sql calls a connection, and the rows read from it, only under the connection's
// lock, whichever goroutine closes the rows.
type keepingConn struct {
	connWithContext
	kept map[string]*list.Element // of *keptStmt, most recently used first in lru
	lru  list.List
}

// keptStmt is a kept statement; inUse while rows read from it are open, when a query of the
// same text compiles a statement of its own.
type keptStmt struct {
	query string
	stmt  driver.Stmt
	inUse bool
	// dropped: pushed out while in use, closed when its rows close.
	dropped bool
}

func newKeepingConn(conn driver.Conn) (*keepingConn, error) {
	c, ok := conn.(connWithContext)
	if !ok {
		return nil, fmt.Errorf("devserver: the SQLite driver's connection %T cannot keep statements", conn)
	}
	return &keepingConn{connWithContext: c, kept: make(map[string]*list.Element)}, nil
}

// statement returns the kept statement for query, compiling and keeping it if need be.
func (c *keepingConn) statement(ctx context.Context, query string) (*keptStmt, error) {
	if e, ok := c.kept[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*keptStmt), nil
	}
	stmt, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := stmt.(stmtWithContext); !ok {
		_ = stmt.Close()
		return nil, fmt.Errorf("devserver: the SQLite driver's statement %T runs without a context", stmt)
	}
	k := &keptStmt{query: query, stmt: stmt}
	c.kept[query] = c.lru.PushFront(k)
	if c.lru.Len() > maxKeptStatements {
		c.drop(c.lru.Back())
	}
	return k, nil
}

// drop forgets a kept statement, closing it unless rows read from it are open.
func (c *keepingConn) drop(e *list.Element) {
	k := c.lru.Remove(e).(*keptStmt)
	delete(c.kept, k.query)
	if k.inUse {
		k.dropped = true
		return
	}
	_ = k.stmt.Close()
}

func (c *keepingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	k, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if k.inUse { // rows of the same text are open: run the text as the driver would
		return c.connWithContext.ExecContext(ctx, query, args)
	}
	return k.stmt.(stmtWithContext).ExecContext(ctx, args)
}

func (c *keepingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	k, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if k.inUse {
		return c.connWithContext.QueryContext(ctx, query, args)
	}
	rows, err := k.stmt.(stmtWithContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	typed, ok := rows.(typedRows)
	if !ok { // not run again: the query may have written (RETURNING)
		return nil, errors.Join(fmt.Errorf("devserver: the SQLite driver's rows %T tell no column types", rows), rows.Close())
	}
	k.inUse = true
	return &keptRows{typedRows: typed, stmt: k}, nil
}

// Unwrap is the driver's connection, for the driver's functions that take one through sql.Conn.Raw.
func (c *keepingConn) Unwrap() driver.Conn { return c.connWithContext }

// Close closes the kept statements, then the connection: SQLite keeps a connection with
// statements open.
func (c *keepingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = c.lru.Front() {
		k := c.lru.Remove(e).(*keptStmt)
		errs = append(errs, k.stmt.Close())
	}
	clear(c.kept)
	return errors.Join(append(errs, c.connWithContext.Close())...)
}

// stmtWithContext is a statement database/sql can run under a context.
type stmtWithContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// typedRows are the SQLite driver's rows, which tell their columns' types.
type typedRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// keptRows are rows read from a kept statement, which they free when closed.
type keptRows struct {
	typedRows
	stmt *keptStmt
}

func (r *keptRows) Close() error {
	err := r.typedRows.Close()
	r.stmt.inUse = false
	if r.stmt.dropped {
		err = errors.Join(err, r.stmt.stmt.Close())
	}
	return err
}
