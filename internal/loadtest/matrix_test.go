package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSelectPoints(t *testing.T) {
	all, err := SelectPoints("")
	require.NoError(t, err)
	require.Equal(t, MatrixPoints, all)

	some, err := SelectPoints("queue-c50, 2,c1")
	require.NoError(t, err)
	var ids []string
	for _, p := range some {
		ids = append(ids, p.ID)
	}
	require.Equal(t, []string{"c1", "c50", "queue-c50"}, ids, "matrix order, no duplicates")

	_, err = SelectPoints("c2")
	require.ErrorContains(t, err, "no matrix row")
	_, err = SelectPoints("9")
	require.ErrorContains(t, err, "no matrix row")
}

func TestMarkdownTable(t *testing.T) {
	run := &MatrixRun{Machine: Machine{CPUs: 2, CPUModel: "Test CPU", MemoryGiB: 24, OS: "linux/amd64", Go: "go1"},
		Version: "0.1.0", Started: time.Unix(0, 0).UTC(), Duration: 20, Warmup: 5, Results: []MatrixResult{
			{Point: MatrixPoints[3], Report: &Report{Requests: 100, Successes: 98, Throughput: 49.5,
				Errors: map[string]int{"http_503": 2}, Latency: Dist{P50: 900, P95: 1300, P99: 1500},
				TTFT: &Dist{N: 98, P50: 850}, Resources: &Resources{CPUPercent: 190, CPUPerPredictionMS: 38.4, RSSEndMB: 210, RSSPeakMB: 230}}},
			{Point: MatrixPoints[4], DelayMS: 0, Error: "start queue: no PostgreSQL"},
		}}
	var b strings.Builder
	require.NoError(t, run.WriteMarkdown(&b))
	out := b.String()
	require.Contains(t, out, "2 × Test CPU, 24 GiB")
	require.Contains(t, out, "| stream-c50 | one process | 0 ms | 50 | yes | 49.5 | 900 ms | 1300 ms | 1500 ms | 850 ms | 2 of 100 (http_503 2) | 190% | 38.4 ms | 210 MB (230) |")
	require.Contains(t, out, "| queue-c1 | queue (2 API + 2 workers) | 0 ms | 1 | no | – | – | – | – | – | start queue: no PostgreSQL | – | – | – |")
}

func TestSoakJudgesTheSecondHalf(t *testing.T) {
	o := SoakOptions{Total: 4000, Step: 1000}
	require.NoError(t, o.defaults())
	flat := &SoakResult{Points: []SoakPoint{{0, 100, 100, 0, 0, 40}, {1000, 180, 190, 0, 50, 110}, {2000, 200, 210, 0, 50, 125},
		{3000, 201, 210, 0, 50, 126}, {4000, 200, 215, 0, 50, 124}}}
	flat.judge(o)
	require.True(t, flat.Pass, flat.Verdict)
	require.Equal(t, 215.0, flat.PeakRSSMB)
	require.Equal(t, 124.0, flat.FinalAnonMB)
	require.Contains(t, flat.Verdict, "RSS 200.0 MB (124.0 MB anonymous) after 4000 predictions")
	require.InDelta(t, 0, flat.SlopeMBPer1k, 0.001, "the early climb is not the trend")

	leak := &SoakResult{Points: []SoakPoint{{0, 100, 100, 0, 0, 40}, {1000, 120, 120, 0, 50, 60}, {2000, 140, 140, 0, 50, 80},
		{3000, 160, 160, 0, 50, 100}, {4000, 180, 180, 0, 50, 120}}}
	leak.judge(o)
	require.False(t, leak.Pass)
	require.InDelta(t, 20, leak.SlopeMBPer1k, 0.001)
	require.InDelta(t, 40, leak.SecondHalfGrowthMB, 0.001)
	require.Contains(t, leak.Verdict, "FAIL")
}
