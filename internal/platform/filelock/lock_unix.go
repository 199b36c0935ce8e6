//go:build unix

// Package filelock serialises processes on one machine around a file: the API keys' JSON file
// that `flowgate start` and `flowgate import` both rewrite, a test binary several packages
// build at once.
package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive flock on path (created, owner-only, if missing), blocking until it
// is free. The kernel drops it if the process dies, so a killed process never wedges others.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
