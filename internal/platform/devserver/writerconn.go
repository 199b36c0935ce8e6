package devserver

import (
	"database/sql"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/iancoleman/strcase"
	"github.com/jmoiron/sqlx"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqlitedriver "modernc.org/sqlite"
)

// Temporal's SQLite plugin runs its queries on one connection per database file, which it opens
// itself and offers no way to replace. Everything a run writes goes through it, as text
// compiled anew each time (stmtcache.go). keepStatements gives a database the plugin opened a
// connection of ours instead, one that keeps its compiled statements, with the settings of the
// plugin's own: it sets the two fields in which the plugin's database object holds its
// connection. adoptConnection checks those fields' names and types first, and the server does
// not start if they have changed (TestPluginDatabasesKeepTheirStatements names the fields).

// writerConns are the connections given to the plugin's databases, one per file and shared by
// all of that file's databases, as the plugin shares its own: SQLite lets one connection write at
// a time, and the plugin's connection waits for no lock (it has no busy timeout), so a second
// connection writing would make the server's writes fail.
var writerConns = struct {
	sync.Mutex
	byFile map[string]*writerConn
}{byFile: make(map[string]*writerConn)}

type writerConn struct {
	db   *sqlx.DB
	refs int
}

// keepStatements gives plain, opened by the plugin on file, the file's shared connection that
// keeps its statements, released when plain closes.
func keepStatements(plain pluginDB, file string) error {
	onClose, ok := plain.DB.(interface{ OnClose(func()) })
	if !ok {
		return fmt.Errorf("devserver: Temporal's SQLite plugin database %T has no close hook", plain.DB)
	}
	db, release, err := acquireWriterConn(file)
	if err != nil {
		return err
	}
	if err := adoptConnection(plain.DB, db); err != nil {
		release()
		return err
	}
	onClose.OnClose(release)
	return nil
}

// acquireWriterConn returns file's shared connection, opening it for the first database, and
// the function that releases it, closing it after the last.
func acquireWriterConn(file string) (*sqlx.DB, func(), error) {
	writerConns.Lock()
	defer writerConns.Unlock()
	w, ok := writerConns.byFile[file]
	if !ok {
		connector, err := sqlitedriver.NewConnector(fileURL(file))
		if err != nil {
			return nil, nil, fmt.Errorf("devserver: connect to %s: %w", file, err)
		}
		db := sqlx.NewDb(sql.OpenDB(keepingConnector{connector}), "sqlite")
		// As the plugin sets its own connection: one, kept open, mapping struct fields to
		// snake_case columns.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.MapperFunc(strcase.ToSnake)
		w = &writerConn{db: db}
		writerConns.byFile[file] = w
	}
	w.refs++
	var once sync.Once
	release := func() {
		once.Do(func() {
			writerConns.Lock()
			defer writerConns.Unlock()
			if w.refs--; w.refs == 0 {
				delete(writerConns.byFile, file)
				_ = w.db.Close()
			}
		})
	}
	return w.db, release, nil
}

// pluginConnFields are the fields of the plugin's database object that hold its connection:
// the database it begins transactions on, and the one it runs queries on (the same database,
// or the transaction). tx is nil in a database that is not a transaction.
var pluginConnFields = []struct {
	name string
	typ  reflect.Type
}{
	{"db", reflect.TypeFor[*sqlx.DB]()},
	{"conn", reflect.TypeFor[sqlplugin.Conn]()},
	{"tx", reflect.TypeFor[*sqlx.Tx]()},
}

// adoptConnection makes db, a database of Temporal's SQLite plugin that is not a transaction,
// run its queries and begin its transactions on conn.
func adoptConnection(db sqlplugin.DB, conn *sqlx.DB) error {
	v := reflect.ValueOf(db)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("devserver: Temporal's SQLite plugin database is a %T, not a pointer to a struct", db)
	}
	fields := make([]reflect.Value, len(pluginConnFields))
	for i, want := range pluginConnFields {
		f := v.Elem().FieldByName(want.name)
		if !f.IsValid() || f.Type() != want.typ {
			return fmt.Errorf("devserver: Temporal's SQLite plugin database %T has no field %s of type %s", db, want.name, want.typ)
		}
		// The field is unexported: reflect sets it only through its address.
		fields[i] = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	}
	if !fields[2].IsNil() {
		return fmt.Errorf("devserver: Temporal's SQLite plugin database %T is a transaction", db)
	}
	fields[0].Set(reflect.ValueOf(conn))
	fields[1].Set(reflect.ValueOf(sqlplugin.Conn(conn)))
	return nil
}
