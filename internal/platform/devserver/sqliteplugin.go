package devserver

import (
	"errors"
	"fmt"
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

	"github.com/flowgate/flowgate/models"
)

// The plugins of this package (batchedPluginName, preparedReadsPluginName) are Temporal's
// SQLite plugin with a few of its queries taken over. What they share is here.

// sqliteConverter gives a plugin the visibility query converter of Temporal's SQLite plugin,
// so the server converts and validates run-list queries as for SQLite.
type sqliteConverter struct{}

func (sqliteConverter) GetVisibilityQueryConverter() sqlplugin.VisibilityQueryConverter {
	converter, err := tsql.GetPluginVisibilityQueryConverter(sqliteplugin.PluginName)
	if err != nil { // the plugin registers itself when its package is imported, as it is here
		panic(err)
	}
	return converter
}

// wrappingPlugin is Temporal's SQLite plugin on a connection of ours that keeps its compiled
// statements (writerconn.go), with some of its queries taken over by the database wrap makes
// of the plugin's. Only a file in WAL mode is wrapped: the queries taken over run on
// connections of their own, which in WAL mode neither wait for the plugin's writer nor make it
// wait (its connection has no busy timeout). An in-memory database is its one connection's
// alone, and a URL of ours would make a file of that name.
type wrappingPlugin struct {
	sqliteConverter
	wrap func(plain pluginDB, file string) sqlplugin.GenericDB
}

func (p wrappingPlugin) CreateDB(kind sqlplugin.DbKind, cfg *config.SQL, r resolver.ServiceResolver,
	logger log.Logger, mh metrics.Handler) (sqlplugin.GenericDB, error) {
	plain, err := openPlainSQLite(kind, cfg, r, logger, mh)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectAttributes["mode"] == "memory" || !strings.EqualFold(cfg.ConnectAttributes["journal_mode"], "wal") {
		return plain, nil
	}
	if err := keepStatements(plain, cfg.DatabaseName, cfg.ConnectAttributes); err != nil {
		_ = plain.Close()
		return nil, err
	}
	return p.wrap(plain, cfg.DatabaseName), nil
}

// pluginDB is a database opened through Temporal's SQLite plugin, which the plugins here embed
// and override query by query. The server also asks for it as an AdminDB, to check the
// schema's version.
type pluginDB struct {
	sqlplugin.DB
	sqlplugin.AdminCRUD
}

func (db pluginDB) ExpectedVersion() string { return db.DB.(sqlplugin.AdminDB).ExpectedVersion() }
func (db pluginDB) VerifyVersion() error    { return db.DB.(sqlplugin.AdminDB).VerifyVersion() }

// openPlainSQLite opens cfg's database through Temporal's SQLite plugin.
func openPlainSQLite(kind sqlplugin.DbKind, cfg *config.SQL, r resolver.ServiceResolver,
	logger log.Logger, mh metrics.Handler) (pluginDB, error) {
	plain := *cfg
	plain.PluginName = sqliteplugin.PluginName
	db, err := tsql.NewSQLDB(kind, &plain, r, logger, mh)
	if err != nil {
		return pluginDB{}, fmt.Errorf("devserver: open %s through the %s plugin: %w", cfg.DatabaseName, sqliteplugin.PluginName, err)
	}
	admin, ok := db.(sqlplugin.AdminDB)
	if !ok {
		_ = db.Close()
		return pluginDB{}, fmt.Errorf("devserver: the %s plugin's database is not an admin database", sqliteplugin.PluginName)
	}
	return pluginDB{DB: db, AdminCRUD: admin}, nil
}

// sqliteMinDateTime is how Temporal's SQLite plugin stores the zero time.
var sqliteMinDateTime = time.Date(1000, time.January, 1, 0, 0, 0, 0, time.UTC)

// sqliteTime is t as Temporal's SQLite plugin stores and binds it: in UTC to the microsecond,
// the zero time as sqliteMinDateTime.
func sqliteTime(t time.Time) time.Time {
	if t.IsZero() {
		return sqliteMinDateTime
	}
	return t.UTC().Truncate(time.Microsecond)
}

// fromSQLiteTime is a time the plugin stored, as the plugin reads it back (its zero time is
// time.Time{}.UTC(), which is time.Time{}).
func fromSQLiteTime(t time.Time) time.Time {
	if t.Equal(sqliteMinDateTime) {
		return time.Time{}
	}
	return t.UTC()
}

// fileURL is a connection of our own to file with the settings of the server's connections
// (fileAttributes, and the plugin's time format, so that times are read and stored in the
// same form), then params.
func fileURL(file string, params ...string) string {
	var all []string
	for key, value := range fileAttributes {
		if key == "mode" {
			all = append(all, key+"="+value)
		} else {
			all = append(all, "_pragma="+key+"="+value)
		}
	}
	all = append(all, "_time_format=sqlite")
	return models.SQLiteDSN(file, append(all, params...)...)
}

// opener is a plugin database's own resource (connections, a writer), opened at its first use
// and closed with the database: of the server's services only history uses the queries the
// plugins take over, and the others need no connections of their own for them.
type opener[T interface{ close() error }] struct {
	mu     sync.Mutex
	v      T
	opened bool
	closed bool
}

// get returns the resource, opening it if need be; once closed, closedErr.
func (o *opener[T]) get(open func() (T, error), closedErr error) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var zero T
	if o.closed {
		return zero, closedErr
	}
	if !o.opened {
		v, err := open()
		if err != nil {
			return zero, err
		}
		o.v, o.opened = v, true
	}
	return o.v, nil
}

// closeWith closes the resource, if it was opened, then the plugin's database.
func (o *opener[T]) closeWith(db pluginDB) error {
	o.mu.Lock()
	v, opened := o.v, o.opened
	o.closed = true
	o.mu.Unlock()
	var err error
	if opened {
		err = v.close()
	}
	return errors.Join(err, db.Close())
}
