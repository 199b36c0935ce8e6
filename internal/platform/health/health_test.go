package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReady(t *testing.T) {
	up := Check{Name: "database", Probe: func(context.Context) error { return nil }}
	down := Check{Name: "temporal", Probe: func(context.Context) error { return errors.New("connection refused") }}
	hung := Check{Name: "slow", Probe: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}

	rec := httptest.NewRecorder()
	Ready(up)(rec, httptest.NewRequest("GET", "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code)

	rec = httptest.NewRecorder()
	start := time.Now()
	Ready(up, down, hung)(rec, httptest.NewRequest("GET", "/readyz", nil))
	require.Less(t, time.Since(start), Timeout+time.Second, "a hung dependency costs at most the check timeout")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, "up", body.Checks["database"])
	require.Equal(t, "down: connection refused", body.Checks["temporal"])
	require.Contains(t, body.Checks["slow"], "deadline exceeded")
}

func TestLive(t *testing.T) {
	rec := httptest.NewRecorder()
	Live(rec, httptest.NewRequest("GET", "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "OK", rec.Body.String())
}
