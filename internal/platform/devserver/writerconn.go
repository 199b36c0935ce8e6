package devserver

import (
	"fmt"
	"maps"
	"reflect"
	"sync"
	"unsafe"

	"github.com/iancoleman/strcase"
	"github.com/jmoiron/sqlx"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"

	"github.com/flowgate/flowgate/models"
)

// Temporal's SQLite plugin runs its queries on one connection per database file, which it opens
// itself and offers no way to replace. Everything a run writes goes through it, as text that
// the SQLite driver compiled anew each time and threw away: about thirty compilations a
// prediction, while the history shard lets one write through at a time (its I/O semaphore),
// 6.8% of all CPU at 50 clients and 29% of the time a run's creation and its one update spent
// in the shard's writes. keepStatements gives a database the plugin opened a connection of
// ours instead, one that keeps its compiled statements (models.OpenCachingSQLite, as the
// Flowgate database's connections do), with the settings of the plugin's own: it sets the
// fields in which the plugin's database object holds its connection. adoptConnection checks
// those fields' names and types first, and the server does not start if they have changed
// (TestAdoptConnectionRefusesAnUnknownDatabase).

// keptStatements is how many compiled statements the connection keeps: the plugin runs a few
// dozen texts, and those with IN lists have a text per list length.
const keptStatements = 256

// writerConns are the connections given to the plugin's databases, one per file, shared by all
// of the server's databases on that file and kept for the life of the process, as the plugin
// keeps its own (its pool never closes one: a store still in use at shutdown would fail, and a
// server started again on the file would write on a second connection while the first one's
// last transaction may still run). SQLite lets one connection write at a time, and the
// plugin's connections wait for no lock (they have no busy timeout), so a second writing
// connection would make writes fail. The plugin's own connection to the file stays open, idle:
// what opens the file through the plain plugin (the schema's setup, the namespace, the search
// attributes) runs before the server starts and must never write while it runs.
var writerConns = struct {
	sync.Mutex
	byFile map[string]*sqlx.DB
}{byFile: make(map[string]*sqlx.DB)}

// keepStatements gives plain, opened by the plugin on file with attrs, the file's shared
// connection that keeps its statements.
func keepStatements(plain pluginDB, file string, attrs map[string]string) error {
	if !maps.Equal(attrs, fileAttributes) { // the connection is opened with fileAttributes
		return fmt.Errorf("devserver: %s is configured with %v, not the embedded server's %v", file, attrs, fileAttributes)
	}
	db, err := writerConn(file)
	if err != nil {
		return err
	}
	return adoptConnection(plain.DB, db)
}

// writerConn returns file's shared connection, opening it for the first database.
func writerConn(file string) (*sqlx.DB, error) {
	writerConns.Lock()
	defer writerConns.Unlock()
	if db, ok := writerConns.byFile[file]; ok {
		return db, nil
	}
	conns, err := models.OpenCachingSQLite(fileURL(file), keptStatements)
	if err != nil {
		return nil, fmt.Errorf("devserver: connect to %s: %w", file, err)
	}
	db := sqlx.NewDb(conns, "sqlite")
	// As the plugin sets its own connection: one, kept open, mapping struct fields to
	// snake_case columns, and opened now, so that a file that cannot be opened fails here.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.MapperFunc(strcase.ToSnake)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("devserver: open %s: %w", file, err)
	}
	writerConns.byFile[file] = db
	return db, nil
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
		if !f.IsValid() {
			return fmt.Errorf("devserver: Temporal's SQLite plugin database %T has no field %s", db, want.name)
		}
		if f.Type() != want.typ {
			return fmt.Errorf("devserver: Temporal's SQLite plugin database %T has a field %s of type %s, not %s", db, want.name, f.Type(), want.typ)
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
