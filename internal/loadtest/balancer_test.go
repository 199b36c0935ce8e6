package loadtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBalancerAlternates(t *testing.T) {
	backend := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, name+" "+r.URL.Path)
		}))
		t.Cleanup(s.Close)
		return s
	}
	b, err := StartBalancer([]string{backend("a").URL, backend("b").URL})
	require.NoError(t, err)
	defer b.Close()
	var got []string
	for range 4 {
		resp, err := http.Get(b.URL + "/api/v1/ping")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		got = append(got, string(body))
	}
	require.Equal(t, []string{"a /api/v1/ping", "b /api/v1/ping", "a /api/v1/ping", "b /api/v1/ping"}, got)
}
