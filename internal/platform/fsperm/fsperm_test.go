//go:build unix

package fsperm

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Mode().Perm()
}

func TestMkdirAllCreatesPrivateDirectories(t *testing.T) {
	// The umask must not be what makes the modes private.
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })

	root := t.TempDir()
	dir := filepath.Join(root, "data", "logs")
	require.NoError(t, MkdirAll(dir))
	require.Equal(t, DirMode, mode(t, dir))
	require.Equal(t, DirMode, mode(t, filepath.Dir(dir)), "created parents too")

	// An existing directory from an older version is tightened.
	older := filepath.Join(root, "older")
	require.NoError(t, os.Mkdir(older, 0o750))
	require.NoError(t, os.Chmod(older, 0o750))
	require.NoError(t, MkdirAll(older))
	require.Equal(t, DirMode, mode(t, older))
}

func TestTighten(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "database.sqlite")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	require.NoError(t, os.Chmod(file, 0o644))
	script := filepath.Join(root, "run.sh")
	require.NoError(t, os.WriteFile(script, []byte("x"), 0o755))
	require.NoError(t, os.Chmod(script, 0o755))
	dir := filepath.Join(root, "storage")
	require.NoError(t, os.Mkdir(dir, 0o750))
	require.NoError(t, os.Chmod(dir, 0o750))

	require.NoError(t, Tighten(file, script, dir, filepath.Join(root, "missing")))
	require.Equal(t, os.FileMode(0o600), mode(t, file))
	require.Equal(t, os.FileMode(0o700), mode(t, script), "the owner's bits stay")
	require.Equal(t, os.FileMode(0o700), mode(t, dir))
	require.NoError(t, Tighten(file), "nothing to do")
}

func TestTightenLeavesOthersFilesAlone(t *testing.T) {
	theirs := "/etc/passwd" // root's, when the test does not run as root
	if os.Geteuid() == 0 {
		theirs = filepath.Join(t.TempDir(), "theirs")
		require.NoError(t, os.WriteFile(theirs, []byte("x"), 0o644))
		require.NoError(t, os.Chmod(theirs, 0o644))
		require.NoError(t, os.Chown(theirs, 65534, 65534))
	}
	before := mode(t, theirs)
	require.NotZero(t, before&0o044)
	require.NoError(t, Tighten(theirs))
	require.Equal(t, before, mode(t, theirs))
}
