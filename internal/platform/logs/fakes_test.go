package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// fakeClock is an injectable clock advanced by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memUploader stores objects in memory. It can fail a number of calls or
// block every call until unblocked (ignoring ctx, the worst case).
type memUploader struct {
	mu       sync.Mutex
	objects  map[string][]byte
	order    []string
	calls    int
	failures int           // fail this many calls (-1 = always)
	block    chan struct{} // non-nil: Put waits for it to close
}

func newUploader() *memUploader { return &memUploader{objects: map[string][]byte{}} }

func (u *memUploader) Put(_ context.Context, key string, body io.Reader, size int64, _ string) error {
	u.mu.Lock()
	u.calls++
	block := u.block
	fail := u.failures != 0
	if u.failures > 0 {
		u.failures--
	}
	u.mu.Unlock()
	if block != nil {
		<-block
	}
	if fail {
		return errors.New("injected upload failure")
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("size %d, body %d bytes", size, len(data))
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.objects[key]; dup {
		return fmt.Errorf("key %s uploaded twice", key)
	}
	u.objects[key] = data
	u.order = append(u.order, key)
	return nil
}

func (u *memUploader) keys() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.order...)
}

func (u *memUploader) callCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls
}

// all returns the objects concatenated in upload order.
func (u *memUploader) all() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var b bytes.Buffer
	for _, k := range u.order {
		b.Write(u.objects[k])
	}
	return b.String()
}

// sortedKeys is a sanity check that key order matches time order.
func sortedKeys(keys []string) []string {
	s := append([]string(nil), keys...)
	sort.Strings(s)
	return s
}

// errSink collects OnError reports.
type errSink struct {
	mu   sync.Mutex
	errs []error
}

func (e *errSink) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

func (e *errSink) contains(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, err := range e.errs {
		if bytes.Contains([]byte(err.Error()), []byte(s)) {
			return true
		}
	}
	return false
}

// syncBuffer is a goroutine-safe bytes.Buffer for captured stdout.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
