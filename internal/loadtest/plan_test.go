package loadtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPlanWarmupCountThenCount(t *testing.T) {
	start := time.Unix(1000, 0)
	var measuredAt []time.Time
	p := newPlan(Options{WarmupCount: 2, Count: 3}, start, func(at time.Time) { measuredAt = append(measuredAt, at) })
	var kinds []bool
	for i := range 10 {
		tk, ok := p.next(start.Add(time.Duration(i) * time.Second))
		if !ok {
			break
		}
		require.Equal(t, i, tk.index)
		kinds = append(kinds, tk.warmup)
	}
	require.Equal(t, []bool{true, true, false, false, false}, kinds)
	require.Equal(t, []time.Time{start.Add(2 * time.Second)}, measuredAt, "the measured phase starts once, with its first request")
	require.Equal(t, 2, p.warmups())
	_, ok := p.next(start)
	require.False(t, ok, "a finished plan stays finished")
}

func TestPlanWarmupDurationThenDuration(t *testing.T) {
	start := time.Unix(1000, 0)
	p := newPlan(Options{WarmupDuration: time.Second, Duration: 2 * time.Second}, start, nil)
	var warm, measured int
	for ms := 0; ; ms += 100 {
		tk, ok := p.next(start.Add(time.Duration(ms) * time.Millisecond))
		if !ok {
			break
		}
		if tk.warmup {
			warm++
		} else {
			measured++
		}
	}
	require.Equal(t, 10, warm, "0 ms to 900 ms")
	require.Equal(t, 20, measured, "1.0 s to 2.9 s: the phase is half-open")
	require.Equal(t, start.Add(time.Second), p.measuredSince())
}

func TestPlanStopsAtWhicheverBoundComesFirst(t *testing.T) {
	start := time.Unix(1000, 0)
	p := newPlan(Options{Count: 100, Duration: time.Second}, start, nil)
	n := 0
	for ; ; n++ {
		if _, ok := p.next(start.Add(time.Duration(n) * 100 * time.Millisecond)); !ok {
			break
		}
	}
	require.Equal(t, 10, n, "the duration ends it before the count")

	p = newPlan(Options{Count: 3, Duration: time.Hour}, start, nil)
	for n = 0; ; n++ {
		if _, ok := p.next(start); !ok {
			break
		}
	}
	require.Equal(t, 3, n, "the count ends it before the duration")

	p = newPlan(Options{Count: 3}, start, nil)
	p.stop()
	_, ok := p.next(start)
	require.False(t, ok)
}
