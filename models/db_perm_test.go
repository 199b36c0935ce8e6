//go:build unix

package models

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestSQLiteFilesArePrivate: the database holds credentials and conversations; its directory
// is created 0700 and its files 0600, the write-ahead log's included. (Files an older version
// left readable are tightened at start: config.PrivatePaths.)
func TestSQLiteFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := Open(ctx, DBConfig{Type: "sqlite", Path: dir})
	require.NoError(t, err)
	t.Cleanup(func() { closeDB(db) })
	// A write, so the write-ahead log and its index exist.
	require.NoError(t, NewStore(db).CreateChatFlow(ctx, &ChatFlow{ID: uuid.NewString(), Name: "f", FlowData: "{}"}))

	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), dir)
	for _, f := range SQLiteFiles(filepath.Join(dir, "database.sqlite")) {
		info, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), f)
	}
}
