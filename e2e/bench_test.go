package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkSequentialPredictions measures one-process mode (API, worker and embedded Temporal
// in one process, SQLite) answering llm-chain.json non-streaming, one request at a time,
// against the mock LLM at 0 ms delay. It reports p50 and p99 latency:
//
//	go test ./e2e/ -run '^$' -bench SequentialPredictions -benchtime 100x
func BenchmarkSequentialPredictions(b *testing.B) {
	t := &testing.T{}
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-bench"})
	flowID := h.createFlow("bench", h.loadFlow("llm-chain.json", cred), nil)
	body, err := json.Marshal(map[string]any{"question": "hello"})
	require.NoError(b, err)
	url := h.base + "/api/v1/prediction/" + flowID

	post := func() time.Duration {
		start := time.Now()
		resp, err := httpClient.Post(url, "application/json", bytes.NewReader(body))
		require.NoError(b, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)
		return time.Since(start)
	}
	for range 5 { // warm connections, caches and the task queue
		post()
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		lat = append(lat, post())
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	h.stop()
}
