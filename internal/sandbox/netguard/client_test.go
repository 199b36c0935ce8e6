package netguard

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClientRefusesLoopbackByDefault(t *testing.T) {
	srv := newCountingServer(t, nil)
	c := Policy{Enforce: true}.Client(nil, 5*time.Second)
	_, err := get(c, srv.URL)
	require.ErrorIs(t, err, ErrForbidden)
	require.Zero(t, srv.hits.Load())
}

func TestClientAllowListReachesLoopback(t *testing.T) {
	srv := newCountingServer(t, nil)
	for _, allow := range []string{"127.0.0.1", "127.0.0.0/8", "127.0.0.1:" + srv.port(t), "::ffff:127.0.0.1"} {
		c := Policy{Enforce: true, Allow: []string{allow}}.Client(nil, 5*time.Second)
		status, err := get(c, srv.URL)
		require.NoError(t, err, allow)
		require.Equal(t, http.StatusOK, status)
	}
	require.EqualValues(t, 4, srv.hits.Load())

	c := Policy{Enforce: true, Allow: []string{"127.0.0.1:1"}}.Client(nil, 5*time.Second)
	_, err := get(c, srv.URL)
	require.ErrorIs(t, err, ErrForbidden, "entry scoped to another port")
}

// A "public" server (allowed only on its own port) redirects to internal
// targets; each hop is dialled through the guard and refused.
func TestClientRefusesRedirectsToInternalTargets(t *testing.T) {
	internal := newCountingServer(t, nil)
	targets := map[string]string{
		"/loopback":  internal.URL + "/secret",
		"/metadata":  "http://169.254.169.254/latest/meta-data/",
		"/localhost": "http://localhost:" + internal.port(t) + "/secret",
		"/mapped":    "http://[::ffff:127.0.0.1]:" + internal.port(t) + "/secret",
		"/decimal":   "http://2130706433:" + internal.port(t) + "/secret",
		"/file":      "file:///etc/passwd",
	}
	public := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targets[r.URL.Path], http.StatusFound)
	})
	c := Policy{Enforce: true, Allow: []string{"127.0.0.1:" + public.port(t)}}.Client(nil, 5*time.Second)
	for path := range targets {
		_, err := get(c, public.URL+path)
		require.ErrorIs(t, err, ErrForbidden, path)
	}
	require.Zero(t, internal.hits.Load())
	require.EqualValues(t, len(targets), public.hits.Load())
}

func TestClientFollowsAtMostTenRedirects(t *testing.T) {
	var srv *countingServer
	srv = newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	})
	c := Policy{Enforce: true, Allow: []string{"127.0.0.1"}}.Client(nil, 5*time.Second)
	_, err := get(c, srv.URL)
	require.ErrorContains(t, err, "stopped after 10 redirects")
	require.EqualValues(t, MaxRedirects+1, srv.hits.Load(), "the first request plus ten redirects")
}

func TestClientChecksResolvedNames(t *testing.T) {
	srv := newCountingServer(t, nil)
	res := newFakeResolver(map[string][]string{"internal.test": {"127.0.0.1"}})
	u := "http://internal.test:" + srv.port(t) + "/"

	c := Policy{Enforce: true, Resolver: res}.Client(nil, 5*time.Second)
	_, err := get(c, u)
	require.ErrorIs(t, err, ErrForbidden)
	require.Zero(t, srv.hits.Load())

	c = Policy{Enforce: true, Allow: []string{"internal.test"}, Resolver: res}.Client(nil, 5*time.Second)
	status, err := get(c, u)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

// The early CheckURL sees a public answer; the dial sees the rebound private
// one and refuses, which is why the dial-time check is the one that counts.
func TestClientResistsDNSRebinding(t *testing.T) {
	srv := newCountingServer(t, nil)
	res := newFakeResolver(nil)
	res.sequence("rebind.test", []string{"93.184.216.34"}, []string{"127.0.0.1"})
	p := Policy{Enforce: true, Resolver: res}
	u := "http://rebind.test:" + srv.port(t) + "/"

	require.NoError(t, p.CheckURL(context.Background(), u))
	_, err := get(p.Client(nil, 5*time.Second), u)
	require.ErrorIs(t, err, ErrForbidden)
	require.Zero(t, srv.hits.Load())
}

func TestClientIgnoresProxies(t *testing.T) {
	proxy := newCountingServer(t, nil)
	target := newCountingServer(t, nil)
	proxyURL, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	t.Setenv("HTTP_PROXY", proxy.URL)

	base := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
	c := Policy{Enforce: true, Allow: []string{"127.0.0.1:" + target.port(t)}}.Client(base, 5*time.Second)
	status, err := get(c, target.URL)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, target.hits.Load())
	require.Zero(t, proxy.hits.Load(), "a proxy would hide the real destination from the dialer")
}

func TestClientEnforceFalseKeepsDenyList(t *testing.T) {
	srv := newCountingServer(t, nil)
	c := Policy{Enforce: false}.Client(nil, 5*time.Second)
	status, err := get(c, srv.URL)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)

	for _, deny := range []string{"127.0.0.1", "127.0.0.0/8", "localhost"} {
		c = Policy{Enforce: false, Deny: []string{deny}}.Client(nil, 5*time.Second)
		target := srv.URL
		if deny == "localhost" {
			target = "http://localhost:" + srv.port(t)
		}
		_, err = get(c, target)
		require.ErrorIs(t, err, ErrForbidden, deny)
	}

	c = Policy{Enforce: true, Allow: []string{"127.0.0.1"}, Deny: []string{"127.0.0.0/8"}}.Client(nil, 5*time.Second)
	_, err = get(c, srv.URL)
	require.ErrorIs(t, err, ErrForbidden, "deny beats allow")
	require.EqualValues(t, 1, srv.hits.Load())
}

// Go's resolver would treat these as DNS names, glibc and browsers as
// 127.0.0.1; either way they must never reach the loopback server, even
// with the check off or loopback allow-listed.
func TestClientOddIPv4SpellingsNeverReachLoopback(t *testing.T) {
	srv := newCountingServer(t, nil)
	port := srv.port(t)
	policies := []Policy{
		{Enforce: true},
		{Enforce: true, Allow: []string{"127.0.0.0/8"}},
		{Enforce: false},
	}
	for _, p := range policies {
		c := p.Client(nil, 5*time.Second)
		for _, host := range []string{"2130706433", "0x7f.1", "017700000001", "0x7f000001", "127.1", "0177.0.0.1", "0x7f.0.0.1"} {
			_, err := get(c, "http://"+host+":"+port+"/")
			require.ErrorIs(t, err, ErrForbidden, host)
		}
	}
	require.Zero(t, srv.hits.Load())
}

func TestClientIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("v6"))
	})}}
	srv.Start()
	t.Cleanup(srv.Close)

	_, err = get(Policy{Enforce: true}.Client(nil, 5*time.Second), srv.URL)
	require.ErrorIs(t, err, ErrForbidden)

	status, err := get(Policy{Enforce: true, Allow: []string{"::1"}}.Client(nil, 5*time.Second), srv.URL)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

func TestClientRefusesNonHTTPSchemes(t *testing.T) {
	c := Policy{Enforce: false}.Client(nil, time.Second)
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/"} {
		_, err := get(c, u)
		require.ErrorIs(t, err, ErrForbidden, u)
	}
}

func TestControlHookRechecksSocketAddress(t *testing.T) {
	g, err := Policy{Enforce: true}.compile()
	require.NoError(t, err)
	ctl := g.control("example.test", false)
	require.ErrorIs(t, ctl("tcp", "127.0.0.1:80", nil), ErrForbidden)
	require.ErrorIs(t, ctl("tcp6", "[::1]:80", nil), ErrForbidden)
	require.NoError(t, ctl("tcp", "93.184.216.34:443", nil))
}

func TestClientReplacesBaseDialers(t *testing.T) {
	srv := newCountingServer(t, nil)
	var bypassed atomic.Bool
	base := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			bypassed.Store(true)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	_, err := get(Policy{Enforce: true}.Client(base, 5*time.Second), srv.URL)
	require.ErrorIs(t, err, ErrForbidden)
	require.False(t, bypassed.Load())
	require.Zero(t, srv.hits.Load())
}
