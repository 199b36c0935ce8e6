package devserver

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/resolver"
)

// TestPluginDatabasesKeepTheirStatements: the plugin's databases on a file write through the
// file's one shared connection, which keeps its statements (models.OpenCachingSQLite), inside
// transactions too, and the writes land in the file.
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

	for _, db := range []sqlplugin.DB{first, second} {
		require.Same(t, shared, pluginConn(t, db), "a plugin database runs on a connection of its own")
	}
	// Read back on a connection of the test's own: the writes are in the file.
	plain, err := sqlx.Open("sqlite", readerURL(conf.DatabaseName))
	require.NoError(t, err)
	defer plain.Close()
	var state string
	require.NoError(t, plain.Get(&state, "SELECT state FROM executions WHERE run_id = ?", k.run))
	require.Equal(t, "updated", state)
}

// pluginConn is the connection the plugin's database under db (the prepared-reads plugin's)
// begins its transactions on.
func pluginConn(t *testing.T, db sqlplugin.DB) *sqlx.DB {
	t.Helper()
	reads, ok := db.(*preparedReadsDB)
	require.True(t, ok, "the database is a %T", db)
	f := reflect.ValueOf(reads.pluginDB.DB).Elem().FieldByName("db")
	require.True(t, f.IsValid())
	return (*sqlx.DB)(unsafe.Pointer(f.Pointer()))
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
