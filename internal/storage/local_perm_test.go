//go:build unix

package storage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
)

// TestLocalKeepsFilesPrivate: uploads hold users' documents; the root, every directory and every
// file are the process user's alone, and a root an older version made 0750 is tightened.
func TestLocalKeepsFilesPrivate(t *testing.T) {
	l, dir := newLocal(t)
	require.NoError(t, l.Put(testCtx(t), "flow/chat/a.txt", strings.NewReader("hello"), 5, "text/plain"))
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		want := os.FileMode(0o600)
		if info.IsDir() {
			want = 0o700
		}
		require.Equal(t, want, info.Mode().Perm(), path)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, l.Close())

	require.NoError(t, os.Chmod(dir, 0o750))
	again, err := storage.NewLocal(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = again.Close() })
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
}
