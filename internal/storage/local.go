package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// Private directories under the local root. Keys may not start with reservedPrefix, so these
// never collide with user data.
const (
	tmpDir  = reservedPrefix + "tmp"  // temp files, renamed into place when complete
	metaDir = reservedPrefix + "meta" // content types, mirroring the data tree
)

// staleTempAge is how old a leftover temp file (from a crash mid-Put) must be before
// NewLocal removes it. Generous, because API and worker processes may share one root.
const staleTempAge = 24 * time.Hour

// Local stores objects as plain files under a root directory, laid out like Flowise's
// BLOB_STORAGE_PATH ("<root>/<chatflowId>/<chatId>/<fileName>"), so existing Flowise
// storage directories can be served as they are.
//
// All file access goes through an os.Root, so even a key that slipped past validation, or a
// symlink planted inside the root, cannot reach files outside it. Writes go to a temp file
// that is renamed into place, so readers see either the old or the new object, never half of
// one. Content types live in a parallel tree under ".flowgate-meta"; files without one (for
// example written by Flowise) get a type derived from their extension.
type Local struct {
	dir  string // absolute root path, for messages
	root *os.Root
}

// NewLocal opens (creating if needed) a local store rooted at dir.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: local storage needs a directory (BLOB_STORAGE_PATH)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: local root %q: %w", dir, err)
	}
	if err := fsperm.MkdirAll(abs); err != nil {
		return nil, fmt.Errorf("storage: create local root: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("storage: open local root %s: %w", abs, err)
	}
	if err := root.MkdirAll(tmpDir, fsperm.DirMode); err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("storage: create temp dir in %s: %w", abs, err)
	}
	l := &Local{dir: abs, root: root}
	l.removeStaleTemps()
	return l, nil
}

// Root returns the absolute directory the store lives in.
func (l *Local) Root() string { return l.dir }

// Close releases the root directory handle.
func (l *Local) Close() error { return l.root.Close() }

// Get opens the object for reading.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := validateKey(key); err != nil {
		return nil, Object{}, fmt.Errorf("storage: local get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, Object{}, fmt.Errorf("storage: local get %q: %w", key, err)
	}
	f, err := l.root.Open(filepath.FromSlash(key))
	if err != nil {
		if isNotExist(err) {
			return nil, Object{}, fmt.Errorf("storage: local get %q: %w", key, ErrNotFound)
		}
		return nil, Object{}, fmt.Errorf("storage: local get %q: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Object{}, fmt.Errorf("storage: local get %q: stat: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		// A directory is a prefix, not an object (as in S3).
		_ = f.Close()
		return nil, Object{}, fmt.Errorf("storage: local get %q: %w", key, ErrNotFound)
	}
	return f, Object{Key: key, Size: st.Size(), ContentType: l.contentType(key)}, nil
}

// contentType reads the stored type, falling back to the extension.
func (l *Local) contentType(key string) string {
	f, err := l.root.Open(filepath.FromSlash(path.Join(metaDir, key)))
	if err != nil {
		return contentTypeFor(key)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if ct := strings.TrimSpace(string(b)); err == nil && ct != "" {
		return ct
	}
	return contentTypeFor(key)
}

// DeletePrefix removes every object whose key starts with prefix, with S3 semantics: "a/b/"
// removes everything under directory a/b, while "a/b" also removes a/bc and a/b.txt.
func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("storage: local delete prefix: %w", err)
	}
	for _, tree := range []string{"", metaDir} {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("storage: local delete prefix %q: %w", prefix, err)
		}
		if err := l.removePrefix(tree, prefix); err != nil {
			return fmt.Errorf("storage: local delete prefix %q: %w", prefix, err)
		}
	}
	return nil
}

func (l *Local) removePrefix(tree, prefix string) error {
	if dir, ok := strings.CutSuffix(prefix, "/"); ok {
		name := filepath.FromSlash(path.Join(tree, dir))
		st, err := l.root.Lstat(name)
		switch {
		case isNotExist(err):
			return nil
		case err != nil:
			return err
		case !st.IsDir():
			return nil // "a/b/" does not match an object named "a/b"
		}
		return l.root.RemoveAll(name)
	}
	dir, base := path.Split(prefix)
	d, err := l.root.Open(filepath.FromSlash(path.Join(tree, dir)))
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), base) && !strings.HasPrefix(e.Name(), reservedPrefix) {
			if err := l.root.RemoveAll(filepath.FromSlash(path.Join(tree, dir, e.Name()))); err != nil {
				return err
			}
		}
	}
	return nil
}

// Check verifies the root is still there and writable; a read-only or vanished mount fails
// readiness. The probe runs in a goroutine so a hung file system cannot block past ctx.
func (l *Local) Check(ctx context.Context) error {
	// A context already done fails at once: otherwise the select below would pick at random
	// between it and a probe that finished before the select ran.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: local check %s: %w", l.dir, err)
	}
	done := make(chan error, 1)
	go func() { done <- l.probe() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("storage: local check %s: %w", l.dir, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("storage: local check %s: %w", l.dir, ctx.Err())
	}
}

func (l *Local) probe() error {
	name := filepath.Join(tmpDir, "check-"+rand.Text())
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fsperm.FileMode)
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("ok"))
	cerr := f.Close()
	rerr := l.root.Remove(name)
	return errors.Join(werr, cerr, rerr)
}

// removeStaleTemps deletes temp files left by a crash. Best effort: failures only leave
// garbage behind.
func (l *Local) removeStaleTemps() {
	d, err := l.root.Open(tmpDir)
	if err != nil {
		return
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-staleTempAge)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = l.root.Remove(filepath.Join(tmpDir, e.Name()))
		}
	}
}

// isNotExist also treats "a path component is a file" as absence, as S3 would.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
