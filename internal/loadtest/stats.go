package loadtest

import (
	"math"
	"slices"
	"time"
)

// Dist summarizes a set of durations, in milliseconds for readable JSON.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// percentile is the nearest-rank percentile of sorted values: the smallest value such that at
// least p% of the values are at or below it. Nearest rank never invents a latency that no
// request had, unlike interpolation; p is in [0, 100].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize sorts values in place and returns their distribution.
func summarize(values []time.Duration) Dist {
	if len(values) == 0 {
		return Dist{}
	}
	slices.Sort(values)
	var sum time.Duration
	for _, v := range values {
		sum += v
	}
	return Dist{
		N:    len(values),
		Mean: ms(sum / time.Duration(len(values))),
		P50:  ms(percentile(values, 50)),
		P95:  ms(percentile(values, 95)),
		P99:  ms(percentile(values, 99)),
		Max:  ms(values[len(values)-1]),
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
