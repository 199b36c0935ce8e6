package llm

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// startEchoServer answers every request 401 with an error body that quotes
// key in the fields each provider's client reports, like providers that echo
// the rejected credential.
func startEchoServer(t *testing.T, key string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"type":"error","error":{"type":"authentication_error","message":"Incorrect API key provided: %s"}}`, key)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
