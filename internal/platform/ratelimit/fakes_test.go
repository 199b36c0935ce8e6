package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// fakeClock is a settable clock for the Limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
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

// fakeStore answers Take with a scripted function and records what it was asked.
type fakeStore struct {
	tokens   uint64
	interval time.Duration
	take     func(ctx context.Context, key string) (uint64, uint64, uint64, bool, error)
	mu       sync.Mutex
	keys     []string
	closed   atomic.Bool
}

func (s *fakeStore) Take(ctx context.Context, key string) (uint64, uint64, uint64, bool, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.take(ctx, key)
}

func (s *fakeStore) Get(context.Context, string) (uint64, uint64, error) {
	return s.tokens, s.tokens, nil
}

func (s *fakeStore) Set(context.Context, string, uint64, time.Duration) error { return nil }

func (s *fakeStore) Burst(context.Context, string, uint64) error { return nil }

func (s *fakeStore) Close(context.Context) error {
	s.closed.Store(true)
	return nil
}

func (s *fakeStore) takenKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

// fakeFactory makes fakeStores and remembers them in creation order.
type fakeFactory struct {
	take   func(ctx context.Context, key string) (uint64, uint64, uint64, bool, error)
	mu     sync.Mutex
	stores []*fakeStore
}

func (f *fakeFactory) New(tokens uint64, interval time.Duration) (Store, error) {
	s := &fakeStore{tokens: tokens, interval: interval, take: f.take}
	if s.take == nil {
		s.take = func(context.Context, string) (uint64, uint64, uint64, bool, error) {
			return tokens, tokens - 1, 0, true, nil
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stores = append(f.stores, s)
	return s, nil
}

func (f *fakeFactory) created() []*fakeStore {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeStore(nil), f.stores...)
}
