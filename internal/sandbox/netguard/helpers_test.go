package netguard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeResolver answers from a table; a name with several answers returns
// them in turn (the last one repeats), which simulates DNS rebinding.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]string
	calls   map[string]int
}

func newFakeResolver(table map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][][]string{}, calls: map[string]int{}}
	for host, ips := range table {
		r.answers[host] = [][]string{ips}
	}
	return r
}

func (r *fakeResolver) sequence(host string, answers ...[]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[host] = answers
}

func (r *fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := r.calls[host]
	r.calls[host]++
	if i >= len(seq) {
		i = len(seq) - 1
	}
	out := make([]net.IPAddr, 0, len(seq[i]))
	for _, s := range seq[i] {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("bad test IP %q", s)
		}
		out = append(out, net.IPAddr{IP: ip})
	}
	return out, nil
}

// countingServer is a loopback server that counts the requests it serves,
// so tests can prove a refused request never arrived.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) port(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(cs.URL)
	if err != nil {
		t.Fatalf("parse server URL: %v", err)
	}
	return u.Port()
}

func get(c *http.Client, rawURL string) (int, error) {
	resp, err := c.Get(rawURL)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
