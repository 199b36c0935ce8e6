package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newMemoryLimiter(t testing.TB) *Limiter {
	t.Helper()
	l := New(DefaultConfig())
	t.Cleanup(func() { require.NoError(t, l.Close(context.Background())) })
	return l
}

func TestMemoryAllowsExactlyMaxThenRefuses(t *testing.T) {
	l := newMemoryLimiter(t)
	ctx := context.Background()
	rule := ruleOf(3, time.Minute)

	for want := 2; want >= 0; want-- {
		d, err := l.Take(ctx, "flow", rule, "ip=1")
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 3, d.Limit)
		require.Equal(t, want, d.Remaining)
	}
	before := time.Now()
	d, err := l.Take(ctx, "flow", rule, "ip=1")
	require.NoError(t, err)
	require.False(t, d.Allowed)
	require.Equal(t, 0, d.Remaining)
	require.Greater(t, d.RetryAfter, time.Duration(0))
	require.LessOrEqual(t, d.RetryAfter, time.Minute)
	require.WithinRange(t, d.Reset, before, before.Add(time.Minute+time.Second))

	h := d.Headers()
	require.Equal(t, "3", h["RateLimit-Limit"])
	require.Equal(t, "0", h["RateLimit-Remaining"])
	for _, name := range []string{"RateLimit-Reset", "Retry-After"} {
		secs, err := strconv.Atoi(h[name])
		require.NoError(t, err, name)
		require.True(t, secs >= 1 && secs <= 60, "%s=%d", name, secs)
	}

	// Other clients, other chatflows and an edited limit all count separately.
	for _, c := range []struct {
		scope, key string
		rule       Rule
	}{
		{"flow", "ip=2", rule},
		{"other-flow", "ip=1", rule},
		{"flow", "ip=1", ruleOf(4, time.Minute)},
		{"flow", "ip=1", ruleOf(3, 2*time.Minute)},
	} {
		d, err := l.Take(ctx, c.scope, c.rule, c.key)
		require.NoError(t, err)
		require.True(t, d.Allowed, "%+v", c)
		require.Equal(t, c.rule.Max-1, d.Remaining, "%+v", c)
	}
	d, err = l.Take(ctx, "flow", rule, "ip=1")
	require.NoError(t, err)
	require.False(t, d.Allowed, "the original bucket is still empty")
}

func TestMemoryConcurrentTakersGetExactlyMax(t *testing.T) {
	l := newMemoryLimiter(t)
	const max, takers = 7, 64
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d, err := l.Take(context.Background(), "flow", ruleOf(max, time.Minute), "ip=1")
			if err == nil && d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	require.EqualValues(t, max, allowed.Load())
}

func TestMemoryWindowResets(t *testing.T) {
	l := newMemoryLimiter(t)
	ctx := context.Background()
	rule := ruleOf(2, 200*time.Millisecond)
	take := func() Decision {
		d, err := l.Take(ctx, "flow", rule, "ip=1")
		require.NoError(t, err)
		return d
	}
	require.True(t, take().Allowed)
	require.True(t, take().Allowed)
	denied := take()
	require.False(t, denied.Allowed)
	require.LessOrEqual(t, denied.RetryAfter, rule.Window)

	// memorystore reads the real clock, so wait for its window to turn.
	require.Eventually(t, func() bool { return take().Allowed }, 5*time.Second, 20*time.Millisecond)
	d := take()
	require.True(t, d.Allowed, "a new window holds the full limit again")
	require.Equal(t, 0, d.Remaining)
}

func TestMemoryStoresRefusesLimitsItCannotRefill(t *testing.T) {
	_, err := MemoryStores(40_000, time.Second)
	require.ErrorContains(t, err, "refills correctly")
	_, err = MemoryStores(0, time.Second)
	require.Error(t, err)

	s, err := MemoryStores(31_622, time.Second)
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))

	// Through a Limiter such a rule is a store failure, so it follows FailOpen.
	l := newMemoryLimiter(t)
	d, err := l.Take(context.Background(), "flow", ruleOf(40_000, time.Second), "ip=1")
	require.ErrorIs(t, err, ErrStoreUnavailable)
	require.True(t, d.Allowed)
}
