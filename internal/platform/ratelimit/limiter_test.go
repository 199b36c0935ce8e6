package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	golimiter "github.com/sethvargo/go-limiter"
	"github.com/stretchr/testify/require"
)

var fiveAMinute = Rule{Enabled: true, Max: 5, Window: time.Minute, Message: "Too many", KeyBy: []KeyKind{KeyIP}}

// scripted returns a Limiter whose store answers every Take with answer(now).
func scripted(t *testing.T, clock *fakeClock, failOpen bool, answer func(now time.Time) (uint64, uint64, uint64, bool, error)) (*Limiter, *fakeFactory) {
	t.Helper()
	f := &fakeFactory{take: func(context.Context, string) (uint64, uint64, uint64, bool, error) {
		return answer(clock.Now())
	}}
	l := New(Config{Stores: f.New, FailOpen: failOpen, Now: clock.Now})
	t.Cleanup(func() { require.NoError(t, l.Close(context.Background())) })
	return l, f
}

func TestTakeMapsStoreAnswerToDecisionAndHeaders(t *testing.T) {
	clock := newFakeClock()
	var answer func(now time.Time) (uint64, uint64, uint64, bool, error)
	l, _ := scripted(t, clock, true, func(now time.Time) (uint64, uint64, uint64, bool, error) { return answer(now) })
	ctx := context.Background()

	answer = func(now time.Time) (uint64, uint64, uint64, bool, error) {
		return 5, 3, uint64(now.Add(10 * time.Second).UnixNano()), true, nil
	}
	d, err := l.Take(ctx, "flow", fiveAMinute, "k")
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Equal(t, 5, d.Limit)
	require.Equal(t, 3, d.Remaining)
	require.True(t, clock.Now().Add(10*time.Second).Equal(d.Reset), "Reset %v", d.Reset)
	require.Zero(t, d.RetryAfter)
	require.Equal(t, map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "3", "RateLimit-Reset": "10"}, d.Headers())

	answer = func(now time.Time) (uint64, uint64, uint64, bool, error) {
		return 5, 0, uint64(now.Add(2500 * time.Millisecond).UnixNano()), false, nil
	}
	d, err = l.Take(ctx, "flow", fiveAMinute, "k")
	require.NoError(t, err)
	require.False(t, d.Allowed)
	require.Equal(t, 2500*time.Millisecond, d.RetryAfter)
	want := map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "3", "Retry-After": "3"}
	require.Equal(t, want, d.Headers())
	h := http.Header{}
	d.SetHeaders(h)
	for k, v := range want {
		require.Equal(t, v, h.Get(k), k)
	}

	// A store clock ahead of ours: reset already past, yet the client must wait a little.
	answer = func(now time.Time) (uint64, uint64, uint64, bool, error) {
		return 5, 0, uint64(now.Add(-time.Second).UnixNano()), false, nil
	}
	d, err = l.Take(ctx, "flow", fiveAMinute, "k")
	require.NoError(t, err)
	require.Equal(t, time.Second, d.RetryAfter)
	require.Equal(t, "0", d.Headers()["RateLimit-Reset"])
	require.Equal(t, "1", d.Headers()["Retry-After"])
}

func TestTakeDisabledRuleTouchesNoStore(t *testing.T) {
	l, f := scripted(t, newFakeClock(), false, nil)
	d, err := l.Take(context.Background(), "flow", Rule{}, "k")
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Empty(t, d.Headers())
	require.Empty(t, f.created())
}

func TestTakeRejectsInvalidRule(t *testing.T) {
	l, f := scripted(t, newFakeClock(), true, nil)
	d, err := l.Take(context.Background(), "flow", Rule{Enabled: true, Max: 0, Window: time.Minute}, "k")
	require.ErrorIs(t, err, ErrInvalidRule)
	require.NotErrorIs(t, err, ErrStoreUnavailable)
	require.False(t, d.Allowed)
	require.Empty(t, f.created())
}

func TestTakeUsesOneStorePerLimitAndScopedKeys(t *testing.T) {
	clock := newFakeClock()
	l, f := scripted(t, clock, true, func(now time.Time) (uint64, uint64, uint64, bool, error) {
		return 5, 4, uint64(now.UnixNano()), true, nil
	})
	sixAMinute := fiveAMinute
	sixAMinute.Max = 6
	ctx := context.Background()
	for _, c := range []struct {
		scope string
		rule  Rule
	}{{"a", fiveAMinute}, {"b", fiveAMinute}, {"a", sixAMinute}, {"a", fiveAMinute}} {
		_, err := l.Take(ctx, c.scope, c.rule, "client")
		require.NoError(t, err)
	}
	stores := f.created()
	require.Len(t, stores, 2)
	require.Equal(t, uint64(5), stores[0].tokens)
	require.Equal(t, time.Minute, stores[0].interval)
	require.Equal(t, uint64(6), stores[1].tokens)
	require.Equal(t, []string{
		storeKey("a", fiveAMinute, "client"),
		storeKey("b", fiveAMinute, "client"),
		storeKey("a", fiveAMinute, "client"),
	}, stores[0].takenKeys())
	require.Equal(t, []string{storeKey("a", sixAMinute, "client")}, stores[1].takenKeys())
}

func TestTakeStoreErrorFollowsFailurePolicy(t *testing.T) {
	boom := errors.New("connection refused")
	failing := func(time.Time) (uint64, uint64, uint64, bool, error) { return 0, 0, 0, false, boom }

	open, _ := scripted(t, newFakeClock(), true, failing)
	d, err := open.Take(context.Background(), "flow", fiveAMinute, "k")
	require.ErrorIs(t, err, ErrStoreUnavailable)
	require.ErrorIs(t, err, boom)
	require.True(t, d.Allowed)
	require.Empty(t, d.Headers(), "no RateLimit headers when the count is unknown")

	clock := newFakeClock()
	closed, _ := scripted(t, clock, false, failing)
	d, err = closed.Take(context.Background(), "flow", fiveAMinute, "k")
	require.ErrorIs(t, err, ErrStoreUnavailable)
	require.ErrorIs(t, err, boom)
	require.False(t, d.Allowed)
	require.Equal(t, failClosedRetryAfter, d.RetryAfter)
	require.Equal(t, map[string]string{
		"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "5", "Retry-After": "5",
	}, d.Headers())
}

func TestTakeNeverWaitsLongerThanStoreTimeout(t *testing.T) {
	for _, failOpen := range []bool{true, false} {
		release := make(chan struct{})
		// A store that ignores its context entirely.
		f := &fakeFactory{take: func(context.Context, string) (uint64, uint64, uint64, bool, error) {
			<-release
			return 0, 0, 0, false, errors.New("too late")
		}}
		const timeout = 50 * time.Millisecond
		l := New(Config{Stores: f.New, StoreTimeout: timeout, FailOpen: failOpen})

		type outcome struct {
			d       Decision
			err     error
			elapsed time.Duration
		}
		done := make(chan outcome, 1)
		go func() {
			start := time.Now()
			d, err := l.Take(context.Background(), "flow", fiveAMinute, "k")
			done <- outcome{d, err, time.Since(start)}
		}()
		var o outcome
		select {
		case o = <-done:
		case <-time.After(10 * time.Second):
		}
		close(release)
		require.NoError(t, l.Close(context.Background()))
		d, err, elapsed := o.d, o.err, o.elapsed
		require.NotZero(t, elapsed, "Take hung on a store that ignores its context")

		require.GreaterOrEqual(t, elapsed, timeout)
		require.Less(t, elapsed, timeout+time.Second)
		require.ErrorIs(t, err, ErrStoreUnavailable)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, failOpen, d.Allowed)
	}
}

func TestTakeCallerCancellationIsNotAStoreOutage(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f := &fakeFactory{take: func(context.Context, string) (uint64, uint64, uint64, bool, error) {
		<-release
		return 5, 4, 0, true, nil
	}}
	l := New(Config{Stores: f.New, StoreTimeout: time.Minute, FailOpen: true})
	t.Cleanup(func() { require.NoError(t, l.Close(context.Background())) })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := l.Take(ctx, "flow", fiveAMinute, "k")
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrStoreUnavailable)
	require.False(t, d.Allowed)
}

func TestTakeAfterCloseFollowsFailurePolicy(t *testing.T) {
	l, f := scripted(t, newFakeClock(), true, func(now time.Time) (uint64, uint64, uint64, bool, error) {
		return 5, 4, uint64(now.UnixNano()), true, nil
	})
	_, err := l.Take(context.Background(), "flow", fiveAMinute, "k")
	require.NoError(t, err)
	require.NoError(t, l.Close(context.Background()))
	require.True(t, f.created()[0].closed.Load())

	d, err := l.Take(context.Background(), "flow", fiveAMinute, "k")
	require.ErrorIs(t, err, ErrStoreUnavailable)
	require.ErrorIs(t, err, golimiter.ErrStopped)
	require.True(t, d.Allowed)
}

func TestDecisionHeadersRounding(t *testing.T) {
	at := time.Unix(1000, 0)
	d := Decision{Allowed: true, Limit: 3, Remaining: -1, Reset: at.Add(59*time.Second + time.Nanosecond), at: at}
	require.Equal(t, map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "60"}, d.Headers())

	d = Decision{Limit: 3, Reset: at.Add(time.Minute), RetryAfter: time.Millisecond, at: at}
	require.Equal(t, "60", d.Headers()["RateLimit-Reset"])
	require.Equal(t, "1", d.Headers()["Retry-After"])

	d = Decision{Limit: 3, Reset: time.Time{}, RetryAfter: 0, at: at}
	require.Equal(t, "0", d.Headers()["RateLimit-Reset"], "a zero Reset is never negative")
	require.Equal(t, "1", d.Headers()["Retry-After"], "a refused client always waits at least a second")
}
