package ratelimit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func ruleOf(max int, window time.Duration) Rule {
	return Rule{Enabled: true, Max: max, Window: window, KeyBy: []KeyKind{KeyIP}}
}

func TestIdleStoresAreClosedAfterTheirWindow(t *testing.T) {
	clock := newFakeClock()
	f := &fakeFactory{}
	l := New(Config{Stores: f.New, Now: clock.Now})
	t.Cleanup(func() { require.NoError(t, l.Close(context.Background())) })
	ctx := context.Background()

	perMinute, perMinute2, perHour := ruleOf(1, time.Minute), ruleOf(2, time.Minute), ruleOf(3, time.Hour)
	for _, r := range []Rule{perMinute, perMinute2, perHour} {
		_, err := l.Take(ctx, "flow", r, "k")
		require.NoError(t, err)
	}
	require.Equal(t, 3, l.pool.size())

	clock.Advance(sweepEvery + time.Second)
	_, err := l.Take(ctx, "flow", perMinute, "k") // in use again; its Take triggers the sweep
	require.NoError(t, err)

	stores := f.created()
	require.False(t, stores[0].closed.Load(), "just used")
	require.True(t, stores[1].closed.Load(), "idle longer than its one-minute window")
	require.False(t, stores[2].closed.Load(), "idle, but its hour-long window may still hold counts")
	require.Equal(t, 2, l.pool.size())

	clock.Advance(time.Hour)
	_, err = l.Take(ctx, "flow", perMinute, "k")
	require.NoError(t, err)
	require.True(t, stores[2].closed.Load())
	require.Equal(t, 1, l.pool.size())
}

func TestStoreCountIsBoundedByLeastRecentlyUsed(t *testing.T) {
	clock := newFakeClock()
	f := &fakeFactory{}
	l := New(Config{Stores: f.New, Now: clock.Now, MaxStores: 2})
	t.Cleanup(func() { require.NoError(t, l.Close(context.Background())) })
	ctx := context.Background()

	a, b, c := ruleOf(1, time.Hour), ruleOf(2, time.Hour), ruleOf(3, time.Hour)
	for _, r := range []Rule{a, b, a, c} {
		clock.Advance(time.Second)
		_, err := l.Take(ctx, "flow", r, "k")
		require.NoError(t, err)
	}
	stores := f.created()
	require.Len(t, stores, 3)
	require.False(t, stores[0].closed.Load(), "a was used after b")
	require.True(t, stores[1].closed.Load(), "b was least recently used")
	require.False(t, stores[2].closed.Load())
	require.Equal(t, 2, l.pool.size())
}

func TestBusyStoreIsNotEvicted(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f := &fakeFactory{take: func(_ context.Context, key string) (uint64, uint64, uint64, bool, error) {
		if strings.Contains(key, "busy") {
			close(entered)
			<-release
		}
		return 1, 0, 0, true, nil
	}}
	l := New(Config{Stores: f.New, MaxStores: 1, StoreTimeout: time.Minute})
	t.Cleanup(func() { require.NoError(t, l.Close(context.Background())) })

	done := make(chan error, 1)
	go func() {
		_, err := l.Take(context.Background(), "busy", ruleOf(1, time.Hour), "k")
		done <- err
	}()
	<-entered
	_, err := l.Take(context.Background(), "other", ruleOf(2, time.Hour), "k")
	require.NoError(t, err)
	require.False(t, f.created()[0].closed.Load(), "a store with a Take in progress stays open")
	require.Equal(t, 2, l.pool.size(), "the bound gives way rather than block a request")

	close(release)
	require.NoError(t, <-done)
}
