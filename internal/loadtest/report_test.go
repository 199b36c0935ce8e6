package loadtest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReportTextAndJSON(t *testing.T) {
	rep := &Report{
		Target: "http://127.0.0.1:3000", FlowID: "f", Model: "closed", Concurrency: 50, Streaming: true,
		Warmup: 10, Requests: 100, Successes: 97, Errors: map[string]int{"http_503": 2, ErrTimeout: 1},
		ErrorExamples: map[string]string{"http_503": "status 503: busy", ErrTimeout: "context deadline exceeded"},
		Elapsed:       2 * time.Second, Throughput: 48.5, Latency: Dist{N: 97, P50: 900, P95: 1200, P99: 1400, Max: 1500, Mean: 950},
		TTFT: &Dist{N: 97, P50: 850}, TTLT: &Dist{N: 97, P50: 880},
		Resources: &Resources{PIDs: []int{42}, CPUPercent: 180, CPUPerPredictionMS: 37.1, RSSStartMB: 100, RSSEndMB: 120, RSSPeakMB: 130},
	}
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	out := text.String()
	require.Contains(t, out, "100 measured (+10 warm-up) in 2.00 s: 97 ok, 3 failed")
	require.Contains(t, out, "http_503           2  e.g. status 503: busy")
	require.Contains(t, out, "throughput  48.5 req/s")
	require.Contains(t, out, "latency     p50 900 ms  p95 1200 ms  p99 1400 ms")
	require.Contains(t, out, "ttft        p50 850 ms")
	require.Contains(t, out, "CPU 180% (37.10 ms per prediction), RSS 100 MB → 120 MB (peak 130 MB), pids [42]")

	var js strings.Builder
	require.NoError(t, rep.WriteJSON(&js))
	var back map[string]any
	require.NoError(t, json.Unmarshal([]byte(js.String()), &back))
	require.Equal(t, 2.0, back["elapsed_s"])
	require.Equal(t, 48.5, back["req_per_s"])
	require.Equal(t, map[string]any{"http_503": 2.0, "timeout": 1.0}, back["errors"])
	require.Equal(t, 1400.0, back["latency"].(map[string]any)["p99_ms"])
	require.Equal(t, 180.0, back["resources"].(map[string]any)["cpu_percent"])
}
