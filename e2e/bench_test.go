package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// BenchmarkSequentialPredictions measures one-process mode (API, worker and embedded Temporal
// in one process, SQLite) answering llm-chain.json non-streaming, one request at a time,
// against the mock LLM at 0 ms delay: the per-prediction path. It reports p50 and p99 latency,
// the process's CPU time per prediction, and (with -benchmem) the allocations per prediction of
// the whole process: client, API, worker, Temporal server and mock together. Telemetry
// follows the environment (ENABLE_METRICS=true measures metrics on):
//
//	go test ./e2e/ -run '^$' -bench SequentialPredictions -benchtime 500x -benchmem
func BenchmarkSequentialPredictions(b *testing.B) {
	t := &testing.T{}
	telemetryCfg, err := telemetry.ConfigFromEnv(os.Getenv)
	require.NoError(b, err)
	h := newHarness(t, func(c *config.Config) { c.Telemetry = telemetryCfg })
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
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for range b.N {
		lat = append(lat, post())
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/prediction")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	h.stop()
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load sends total predictions of flowID from concurrency clients and reports throughput and
// latency percentiles.
func load(b *testing.B, base, flowID string, concurrency, total int) {
	body, err := json.Marshal(map[string]any{"question": "hello"})
	require.NoError(b, err)
	url := base + "/api/v1/prediction/" + flowID
	tr := &http.Transport{MaxIdleConnsPerHost: concurrency}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Timeout: time.Minute, Transport: tr}
	jobs := make(chan struct{}, total)
	for range total {
		jobs <- struct{}{}
	}
	close(jobs)
	lat := make(chan time.Duration, total)
	errs := make(chan error, total)
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t0 := time.Now()
				resp, err := cl.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					errs <- err
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					continue
				}
				lat <- time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(lat)
	close(errs)
	var all []time.Duration
	for l := range lat {
		all = append(all, l)
	}
	require.Empty(b, errs, "every prediction succeeds")
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkOneProcessMode: 2,000 predictions of llm-chain.json at concurrency 50 against the
// mock at 0 ms, one process with its embedded Temporal and SQLite.
//
//	go test ./e2e/ -run '^$' -bench 'OneProcessMode|QueueMode' -benchtime 1x
func BenchmarkOneProcessMode(b *testing.B) {
	t := &testing.T{}
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-bench"})
	flowID := h.createFlow("bench", h.loadFlow("llm-chain.json", cred), nil)
	for range b.N {
		load(b, h.base, flowID, 50, 2000)
	}
	h.stop()
}

// BenchmarkQueueMode: the same load on queue mode, every tier its own process: a Temporal
// server, 2 API processes (requests alternate between them) and 2 workers, on PostgreSQL.
func BenchmarkQueueMode(b *testing.B) {
	t := &testing.T{}
	c := newCluster(t)
	mock := llmmock.NewTestServer(t, llmmock.Options{MaxRecorded: -1})
	api1, api2 := c.api(), c.api()
	api1.mock = mock
	c.worker()
	c.worker()
	cred := api1.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-bench"})
	flowID := api1.createFlow("bench", api1.loadFlow("llm-chain.json", cred), nil)
	lb := roundRobin(b, api1.base, api2.base)
	for range b.N {
		load(b, lb, flowID, 50, 2000)
	}
}

// roundRobin is a tiny load balancer in front of the API replicas.
func roundRobin(b *testing.B, backends ...string) string {
	var mu sync.Mutex
	next := 0
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, be := range backends {
		u, err := neturl.Parse(be)
		require.NoError(b, err)
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
		proxies[i].Transport = &http.Transport{MaxIdleConnsPerHost: 100}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		p := proxies[next%len(proxies)]
		next++
		mu.Unlock()
		p.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}
