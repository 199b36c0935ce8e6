package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzClientIP checks the client address behind X-Forwarded-For for any header lines (xff,
// split at "\n"), socket peer and NUMBER_OF_PROXIES / TRUST_PROXY settings. The answer keys the
// rate limits of public chatflows, so no header may make it panic or take long, and it must be
// either a normalized address that is the peer or one of the entries, or, when no address in
// reach is valid (a Unix socket peer), the peer's host as is. It is never empty unless the
// peer's host is, which net/http never gives for a TCP connection. Where the answer was not
// written by a trusted proxy, entries a client adds on the left cannot change it. Run it with
//
//	go test ./internal/platform/ratelimit/ -run='^$' -fuzz='^FuzzClientIP$' -fuzztime=30s
func FuzzClientIP(f *testing.F) {
	for _, s := range []struct {
		remote, xff, numberOfProxies, trustProxy string
		prefix                                   int
	}{
		{"203.0.113.7:5555", "", "", "", 64},
		{"10.0.0.2:80", "9.9.9.9, 203.0.113.7\n10.0.0.1", "2", "", 64},
		{"10.0.0.1:80", "1.1.1.1, unknown, , 010.1.1.1", "1", "", 0},
		{"[2001:db8::7]:5555", "[2001:db8::1]:443,::ffff:9.9.9.9, fe80::1%eth0", "3", "", 56},
		{"10.0.0.2:80", "10.9.9.9, 203.0.113.7, 10.0.0.1", "", "10.0.0.0/8", 64},
		{"[::1]:80", "2001:db8:1:2::1", "", "loopback, ::ffff:10.0.0.0/104, fd00::/8", 128},
		{"10.0.0.2:80", "10.0.0.5, 10.0.0.1", "5", "uniquelocal", 64},
		{"10.0.0.1:80", "1.1.1.1", "", "true", 64},
		{"@", "junk\n203.0.113.7", "1", "", 64},
		{"", "", "", "", 64},
		{"[::ffff:1.2.3.4%0]:", "", "", "", 64}, // no port: the fallback, which reads as an address
		{"[fe80::1%eth0]:80", strings.Repeat("4.4.4.4, ", 50), "99999999999999999999", "", 129},
	} {
		f.Add(s.remote, s.xff, s.numberOfProxies, s.trustProxy, s.prefix)
	}

	f.Fuzz(func(t *testing.T, remote, xff, numberOfProxies, trustProxy string, prefix int) {
		res, err := NewIPResolver(numberOfProxies, trustProxy)
		if err != nil {
			require.Nil(t, res)
			return
		}
		lines := strings.Split(xff, "\n")
		if xff == "" {
			lines = nil
		}
		req := func(lines []string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/prediction/x", nil)
			r.RemoteAddr = remote
			for _, l := range lines {
				r.Header.Add("X-Forwarded-For", l)
			}
			return r
		}

		start := time.Now()
		ip := res.ClientIP(req(lines))
		candidates := map[string]bool{}
		peer, peerOK := parseEntry(remote)
		if peerOK {
			candidates[peer.String()] = true
		}
		for _, l := range lines {
			for _, e := range strings.Split(l, ",") {
				if a, ok := parseEntry(e); ok {
					candidates[a.String()] = true
				}
			}
		}
		a, aErr := netip.ParseAddr(ip)
		isAddr := aErr == nil
		if candidates[ip] {
			require.Equal(t, normalize(a), a, "%q is not normalized", ip)
			require.Equal(t, a.String(), ip)
		} else {
			// The fallback, which may happen to read as an address ("0.0.0.0:" has no port).
			require.False(t, peerOK, "a valid peer, yet %q is neither it nor an entry", ip)
			require.Equal(t, rawHost(remote), ip)
		}
		if rawHost(remote) != "" || peerOK {
			require.NotEmpty(t, ip)
		}

		// What lies left of the entries read is the client's own words and never read: with
		// hop counts, once there are as many entries as hops; with a trusted list, once the
		// walk has stopped at an untrusted address. Adding entries there changes nothing.
		entries := 0
		for _, l := range lines {
			for _, e := range strings.Split(l, ",") {
				if strings.TrimSpace(e) != "" {
					entries++
				}
			}
		}
		leftUnread := entries >= res.hops
		if res.trusted != nil {
			leftUnread = isAddr && !res.isTrusted(a)
		}
		if leftUnread {
			forged := append([]string{"198.51.100.66, bogus"}, lines...)
			require.Equal(t, ip, res.ClientIP(req(forged)), "a forged entry changed the answer")
			if len(lines) > 0 {
				forged = append([]string{"198.51.100.66, " + lines[0]}, lines[1:]...)
				require.Equal(t, ip, res.ClientIP(req(forged)), "a forged entry changed the answer")
			}
		}

		// The counted address: an IPv4 address, an IPv6 network, or the raw value as is.
		counted := CountedAddress(ip, prefix)
		if isAddr {
			if a = normalize(a); a.Is4() {
				require.Equal(t, a.String(), counted)
			} else {
				p, err := netip.ParsePrefix(counted)
				require.NoError(t, err, counted)
				require.True(t, p.Contains(a))
				require.Equal(t, p.Masked(), p)
			}
		} else {
			require.Equal(t, ip, counted)
		}
		require.Less(t, time.Since(start), 5*time.Second)
	})
}
