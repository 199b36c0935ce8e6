// Package health answers liveness and readiness probes. Readiness runs every dependency check
// under a short deadline, so a probe never hangs on a dependency that is down.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Check probes one dependency.
type Check struct {
	Name  string
	Probe func(context.Context) error
}

// Timeout bounds each check.
const Timeout = 2 * time.Second

// Live answers 200 "OK" while the process serves HTTP: Flowise's worker health check.
func Live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("OK"))
}

// Ready runs the checks concurrently and answers 200 when all pass, else 503 with Retry-After,
// with each check's result in the body.
func Ready(checks ...Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		results := make(map[string]string, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		ok := true
		for _, c := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(r.Context(), Timeout)
				defer cancel()
				err := c.Probe(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					ok = false
					results[c.Name] = "down: " + err.Error()
					return
				}
				results[c.Name] = "up"
			}()
		}
		wg.Wait()
		status, word := http.StatusOK, "ready"
		if !ok {
			status, word = http.StatusServiceUnavailable, "not ready"
			w.Header().Set("Retry-After", "5")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": word, "checks": results})
	}
}
