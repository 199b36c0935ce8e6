package storage_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
)

func newLocal(t *testing.T) (*storage.Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "root")
	l, err := storage.NewLocal(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l, dir
}

func TestLocalCraftedKeysCannotLeaveRoot(t *testing.T) {
	l, dir := newLocal(t)
	ctx := testCtx(t)
	for _, k := range []string{"../x", "../../x", "a/../../x", "/tmp/x", `..\x`} {
		require.ErrorIs(t, l.Put(ctx, k, strings.NewReader("pwned"), 5, ""), storage.ErrInvalidKey, k)
	}
	_, err := os.Stat(filepath.Join(filepath.Dir(dir), "x"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// Keys may not reach the store's private directories either.
	for _, k := range []string{".flowgate-meta/x", ".flowgate-tmp/x"} {
		require.ErrorIs(t, l.Put(ctx, k, strings.NewReader("x"), 1, ""), storage.ErrInvalidKey, k)
	}
}

func TestLocalSymlinkCannotLeaveRoot(t *testing.T) {
	l, dir := newLocal(t)
	ctx := testCtx(t)
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(outside, "chat"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "chat", "secret.txt"), []byte("secret"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "flow")))

	require.Error(t, l.Put(ctx, "flow/chat/new.txt", strings.NewReader("x"), 1, ""))
	_, err := os.Stat(filepath.Join(outside, "chat", "new.txt"))
	require.ErrorIs(t, err, os.ErrNotExist, "write escaped through the symlink")

	_, _, err = l.Get(ctx, "flow/chat/secret.txt")
	require.Error(t, err)
	require.NotErrorIs(t, err, storage.ErrNotFound)
}

func TestLocalLayoutMatchesFlowise(t *testing.T) {
	l, dir := newLocal(t)
	ctx := testCtx(t)
	require.NoError(t, l.Put(ctx, "flow/chat/a b.txt", strings.NewReader("hello"), 5, "text/plain"))
	b, err := os.ReadFile(filepath.Join(dir, "flow", "chat", "a b.txt"))
	require.NoError(t, err)
	require.Equal(t, "hello", string(b), "stored as the raw file")

	// A file Flowise wrote (no metadata) is served with a type from its extension.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "old", "chat"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old", "chat", "doc.pdf"), []byte("%PDF"), 0o644))
	body, obj := readAll(t, l, "old/chat/doc.pdf")
	require.Equal(t, "%PDF", body)
	require.Equal(t, "application/pdf", obj.ContentType)
}

func TestLocalPutLeavesNoTempFiles(t *testing.T) {
	l, dir := newLocal(t)
	ctx := testCtx(t)
	require.NoError(t, l.Put(ctx, "f/c/ok.txt", strings.NewReader("ok"), 2, ""))
	require.Error(t, l.Put(ctx, "f/c/bad.txt", strings.NewReader("short"), 99, ""))
	require.Error(t, l.Put(ctx, "f/c/bad.txt", failingReader(1000), -1, ""))

	entries, err := os.ReadDir(filepath.Join(dir, ".flowgate-tmp"))
	require.NoError(t, err)
	require.Empty(t, entries)
	entries, err = os.ReadDir(filepath.Join(dir, "f", "c"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "only ok.txt")
}

// Readers racing an overwrite see one whole version or the other, never a mix or a prefix.
func TestLocalOverwriteIsAtomic(t *testing.T) {
	l, _ := newLocal(t)
	ctx := testCtx(t)
	versions := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b"), 100<<10)}
	key := "f/c/racy.bin"
	require.NoError(t, l.Put(ctx, key, bytes.NewReader(versions[0]), int64(len(versions[0])), ""))

	const rounds = 50
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			v := versions[i%2]
			if err := l.Put(ctx, key, bytes.NewReader(v), int64(len(v)), ""); err != nil {
				t.Errorf("put: %v", err)
				return
			}
		}
	})
	for range rounds {
		rc, obj, err := l.Get(ctx, key)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		require.Len(t, got, int(obj.Size))
		require.True(t, bytes.Equal(got, versions[0]) || bytes.Equal(got, versions[1]),
			"read a torn object of %d bytes", len(got))
	}
	wg.Wait()
}

func TestLocalCheckFailsWhenRootIsGone(t *testing.T) {
	l, dir := newLocal(t)
	require.NoError(t, l.Check(testCtx(t)))
	require.NoError(t, os.RemoveAll(dir))
	err := l.Check(testCtx(t))
	require.Error(t, err)
	require.ErrorContains(t, err, "local check")
}

func TestOpenLocal(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(context.Background(), storage.Config{Type: "LOCAL", LocalPath: dir})
	require.NoError(t, err)
	require.Equal(t, dir, st.(*storage.Local).Root())

	// Flowise's default location when BLOB_STORAGE_PATH is unset.
	home := t.TempDir()
	t.Setenv("HOME", home)
	st, err = storage.Open(context.Background(), storage.Config{})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(home, ".flowise", "storage"), st.(*storage.Local).Root())
}

func TestOpenRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]storage.Config{
		"unknown type":      {Type: "gcs"},
		"s3 without bucket": {Type: "s3"},
		"half credentials":  {Type: "s3", Bucket: "b", AccessKeyID: "AKIA"},
	} {
		_, err := storage.Open(ctx, cfg)
		require.Error(t, err, name)
	}
	_, err := storage.NewLocal("")
	require.Error(t, err)
}
