//go:build unix

package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// TestPrivatePathsTightenAnOlderDataDir: what an older version left readable by others (a 0750
// data directory, a 0644 database, key file and API key file) is private after a start.
func TestPrivatePathsTightenAnOlderDataDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "flowgate")
	require.NoError(t, os.Mkdir(dataDir, 0o750))
	require.NoError(t, os.Chmod(dataDir, 0o750))
	files := []string{"database.sqlite", "database.sqlite-wal", "encryption.key", "api.json"}
	for _, name := range files {
		path := filepath.Join(dataDir, name)
		require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))
		require.NoError(t, os.Chmod(path, 0o644))
	}
	c, err := config.Load(envOf(map[string]string{"FLOWGATE_DATA_DIR": dataDir}))
	require.NoError(t, err)

	require.NoError(t, fsperm.Tighten(c.PrivatePaths()...))
	info, err := os.Stat(dataDir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	for _, name := range files {
		info, err := os.Stat(filepath.Join(dataDir, name))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), name)
	}
}
