package netguard

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recordingServer remembers the headers of the last request to each path.
type recordingServer struct {
	*countingServer
	mu   sync.Mutex
	seen map[string]http.Header
}

func newRecordingServer(t *testing.T, redirects map[string]func() string) *recordingServer {
	rs := &recordingServer{seen: map[string]http.Header{}}
	rs.countingServer = newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		rs.seen[r.URL.Path] = r.Header.Clone()
		rs.mu.Unlock()
		if to, ok := redirects[r.URL.Path]; ok {
			http.Redirect(w, r, to(), http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	return rs
}

func (rs *recordingServer) header(path string) http.Header {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.seen[path]
}

// TestRedirectKeepsCredentialsWithTheirHost: a credential's headers reach the host they were
// set for, never another host a redirect points to, and no hop learns the first URL (whose
// query may hold a key) through Referer.
func TestRedirectKeepsCredentialsWithTheirHost(t *testing.T) {
	var first, other *recordingServer
	first = newRecordingServer(t, map[string]func() string{
		"/away":      func() string { return other.URL + "/landing" },
		"/same":      func() string { return first.URL + "/landing" },
		"/roundtrip": func() string { return other.URL + "/back" },
	})
	other = newRecordingServer(t, map[string]func() string{
		"/back": func() string { return first.URL + "/returned" },
	})
	c := Policy{Enforce: true, Allow: []string{"127.0.0.1"}}.Client(nil, 5*time.Second)
	send := func(path string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, first.URL+path+"?api_key=query-secret", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer bearer-secret")
		req.Header.Set("Cookie", "session=cookie-secret")
		req.Header.Set("Proxy-Authorization", "Basic proxy-secret")
		req.Header.Set("X-Api-Key", "header-secret")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "flowgate-test")
		resp, err := c.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	credentials := []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key"}

	send("/away")
	got := other.header("/landing")
	require.NotNil(t, got)
	for _, name := range credentials {
		require.Empty(t, got.Get(name), "%s followed the redirect to another host", name)
	}
	require.Empty(t, got.Get("Referer"), "the first URL, query and all, leaked through Referer")
	require.Equal(t, "application/json", got.Get("Accept"))
	require.Equal(t, "flowgate-test", got.Get("User-Agent"))

	// Within the same host the credentials stay (the server asked for them), Referer does not.
	send("/same")
	got = first.header("/landing")
	require.Equal(t, "header-secret", got.Get("X-Api-Key"))
	require.Equal(t, "Bearer bearer-secret", got.Get("Authorization"))
	require.Empty(t, got.Get("Referer"))

	// A host the chain passed through cannot send the credentials back to the first host
	// on a path of its choosing.
	send("/roundtrip")
	got = first.header("/returned")
	require.NotNil(t, got)
	for _, name := range credentials {
		require.Empty(t, got.Get(name), "%s came back after the chain left the host", name)
	}
}

func TestSameTarget(t *testing.T) {
	cases := []struct {
		from, to string
		same     bool
	}{
		{"https://api.example.com/a?k=1", "https://api.example.com/b", true},
		{"https://api.example.com/a", "https://API.example.com:443/b", true},
		{"http://api.example.com/a", "https://api.example.com/b", true},  // upgrade
		{"https://api.example.com/a", "http://api.example.com/b", false}, // downgrade
		{"https://api.example.com/a", "https://evil.example/b", false},
		{"https://api.example.com/a", "https://sub.api.example.com/b", false},
		{"https://api.example.com/a", "https://api.example.com:8443/b", false},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b", false},
		{"http://api.example.com:8080/a", "https://api.example.com:8443/b", false},
	}
	for _, tc := range cases {
		from, err := url.Parse(tc.from)
		require.NoError(t, err)
		to, err := url.Parse(tc.to)
		require.NoError(t, err)
		require.Equal(t, tc.same, sameTarget(from, to), "%s -> %s", tc.from, tc.to)
	}
}
