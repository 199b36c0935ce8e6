package storage

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// Put writes the object atomically: data and content type go to temp files that are renamed
// into place only once complete. When size >= 0 the body must have exactly that many bytes;
// a short or long body fails without replacing the existing object.
func (l *Local) Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error {
	if err := validateKey(key); err != nil {
		return fmt.Errorf("storage: local put: %w", err)
	}
	if err := l.put(ctx, key, body, size, contentType); err != nil {
		return fmt.Errorf("storage: local put %q: %w", key, err)
	}
	return nil
}

func (l *Local) put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if contentType == "" {
		contentType = contentTypeFor(key)
	}
	dataTmp, err := l.writeTemp(ctx, body, size)
	if err != nil {
		return err
	}
	defer l.root.Remove(dataTmp) // no-op once renamed
	metaTmp, err := l.writeTemp(ctx, strings.NewReader(contentType), int64(len(contentType)))
	if err != nil {
		return err
	}
	defer l.root.Remove(metaTmp)

	dataPath := filepath.FromSlash(key)
	metaPath := filepath.FromSlash(path.Join(metaDir, key))
	for _, p := range []string{dataPath, metaPath} {
		if err := l.root.MkdirAll(filepath.Dir(p), fsperm.DirMode); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	// Data first: a concurrent reader may briefly pair the new data with the previous content
	// type, but never sees partial data.
	if err := l.root.Rename(dataTmp, dataPath); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	if err := l.root.Rename(metaTmp, metaPath); err != nil {
		return fmt.Errorf("store content type: %w", err)
	}
	return nil
}

// writeTemp copies r into a new synced temp file and returns its root-relative name.
func (l *Local) writeTemp(ctx context.Context, r io.Reader, size int64) (_ string, err error) {
	name := filepath.Join(tmpDir, "put-"+rand.Text())
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fsperm.FileMode)
	if err != nil {
		return "", fmt.Errorf("create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close() // may already be closed; the temp file must go either way
			_ = l.root.Remove(name)
		}
	}()
	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if size >= 0 {
		// Read one byte past the declared size to detect a long body without storing it all.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	if size >= 0 && n != size {
		return "", sizeMismatch(size, n)
	}
	// Sync before rename so a crash cannot leave a renamed but empty file.
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close: %w", err)
	}
	return name, nil
}
