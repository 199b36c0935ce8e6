package filelock

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLockExcludes: a second Lock of the same file waits until the first is released.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(path)
	require.NoError(t, err)
	var second atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := Lock(path) // another open file description: flock excludes it
		if err == nil {
			second.Store(true)
			u()
		}
	}()
	require.Never(t, second.Load, 200*time.Millisecond, 10*time.Millisecond)
	unlock()
	<-done
	require.True(t, second.Load())
}
