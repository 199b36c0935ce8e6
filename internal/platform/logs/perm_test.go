//go:build unix

package logs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogFilesArePrivate: logs name clients and flows; the log directory and its segments are
// the process user's alone, and a directory an older version made 0750 is tightened.
func TestLogFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	require.NoError(t, os.Mkdir(dir, 0o750))
	require.NoError(t, os.Chmod(dir, 0o750))
	log, sink, err := New(Options{Stdout: &syncBuffer{}, Dir: dir, Now: newClock().Now})
	require.NoError(t, err)
	log.Info("hello")
	closeSink(t, sink)

	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	segments := localFiles(t, dir)
	require.Len(t, segments, 1)
	info, err = os.Stat(filepath.Join(dir, segments[0]))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}
