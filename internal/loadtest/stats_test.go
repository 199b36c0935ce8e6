package loadtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	var v []time.Duration
	for i := 1; i <= 100; i++ {
		v = append(v, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, percentile(v, 50))
	require.Equal(t, 95*time.Millisecond, percentile(v, 95))
	require.Equal(t, 99*time.Millisecond, percentile(v, 99))
	require.Equal(t, 100*time.Millisecond, percentile(v, 100))
	require.Equal(t, 1*time.Millisecond, percentile(v, 0), "p0 is the minimum")

	small := []time.Duration{10, 20, 30}
	require.Equal(t, time.Duration(20), percentile(small, 50))
	require.Equal(t, time.Duration(30), percentile(small, 99), "with few values the tail is the max")
	require.Equal(t, time.Duration(0), percentile(nil, 50))
}

func TestSummarizeSortsAndConvertsToMilliseconds(t *testing.T) {
	d := summarize([]time.Duration{3 * time.Millisecond, 1 * time.Millisecond, 2500 * time.Microsecond, 2 * time.Millisecond})
	require.Equal(t, Dist{N: 4, Mean: 2.125, P50: 2, P95: 3, P99: 3, Max: 3}, d)
	require.Equal(t, Dist{}, summarize(nil))
}
