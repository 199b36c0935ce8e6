// Package fsperm keeps the files Flowgate stores on local disk to the user it runs as: the
// databases, the encryption key, API keys, uploads and logs hold credentials and conversations,
// which other users of the machine have no business reading.
//
// New directories are created DirMode and new files FileMode. Older versions created them 0750
// and 0644; Tighten takes the group and other bits away from what they left behind.
package fsperm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Modes of what Flowgate creates.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// MkdirAll creates dir and its missing parents with DirMode, and tightens dir itself when it
// already existed (see Tighten).
func MkdirAll(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return Tighten(dir)
}

// Tighten takes the group and other permissions away from each path that exists and belongs
// to the user this process runs as; the owner's own bits stay. A missing path is no error,
// and a path someone else owns is left alone: an operator gave it its permissions (and
// chmod would fail anyway). The errors of all paths are joined.
func Tighten(paths ...string) error {
	var errs []error
	for _, p := range paths {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tighten permissions of %s: %w", p, err))
			continue
		}
		mode := info.Mode().Perm()
		if mode&0o077 == 0 || !ownedByUs(info) {
			continue
		}
		if err := os.Chmod(p, mode&^0o077); err != nil {
			errs = append(errs, fmt.Errorf("tighten permissions of %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
