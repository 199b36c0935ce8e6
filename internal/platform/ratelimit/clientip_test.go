package ratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// request builds a request as it reaches Flowgate: socket peer remote, and the
// X-Forwarded-For header lines in order.
func request(remote string, xff ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/prediction/x", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

// proxyStyle is how a proxy records its peer in X-Forwarded-For.
type proxyStyle struct {
	name   string
	record func(h http.Header, peer netip.Addr)
}

var proxyStyles = []proxyStyle{
	{"nginx joins into one line", func(h http.Header, peer netip.Addr) {
		if prev := h.Values("X-Forwarded-For"); len(prev) > 0 {
			h.Set("X-Forwarded-For", strings.Join(prev, ", ")+", "+peer.String())
			return
		}
		h.Set("X-Forwarded-For", peer.String())
	}},
	{"adds its own header line", func(h http.Header, peer netip.Addr) {
		h.Add("X-Forwarded-For", peer.String())
	}},
	{"appends with port, no space", func(h http.Header, peer netip.Addr) {
		entry := netip.AddrPortFrom(peer, 50123).String()
		if prev := h.Values("X-Forwarded-For"); len(prev) > 0 {
			h.Set("X-Forwarded-For", strings.Join(prev, ",")+","+entry)
			return
		}
		h.Set("X-Forwarded-For", entry)
	}},
}

// viaProxies simulates a client at client sending forged X-Forwarded-For lines through the
// given chain of proxies (outermost first), each recording the address it saw.
func viaProxies(style proxyStyle, client string, forged []string, proxies []string) *http.Request {
	r := request("", forged...)
	peer := netip.MustParseAddr(client)
	for _, p := range proxies {
		style.record(r.Header, peer)
		peer = netip.MustParseAddr(p)
	}
	r.RemoteAddr = netip.AddrPortFrom(peer, 41234).String()
	return r
}

// Forged X-Forwarded-For values an attacker may send. None may change its resolved IP.
var forgeries = map[string][]string{
	"honest (no header)":       nil,
	"one fake":                 {"1.1.1.1"},
	"two fakes":                {"1.1.1.1, 2.2.2.2"},
	"victim's address":         {"203.0.113.99"},
	"a trusted proxy address":  {"10.0.0.1"},
	"the other proxy too":      {"10.0.0.1, 10.0.0.2"},
	"garbage and empties":      {"garbage, , not-an-ip,"},
	"only commas":              {", ,"},
	"empty header line":        {""},
	"ipv6 with port":           {"[2001:db8::1]:443"},
	"ipv4-mapped":              {"::ffff:9.9.9.9"},
	"several header lines":     {"1.1.1.1", "2.2.2.2, 3.3.3.3"},
	"fifty fakes":              {strings.Repeat("4.4.4.4, ", 49) + "4.4.4.4"},
	"unknown as nginx writes":  {"unknown"},
	"spaces and trailing port": {" 5.5.5.5:80 ,  6.6.6.6 "},
}

var clients = map[string]struct{ addr, want string }{
	"ipv4":        {"203.0.113.7", "203.0.113.7"},
	"ipv6":        {"2001:DB8:0:0::7", "2001:db8::7"},
	"ipv4-mapped": {"::ffff:203.0.113.7", "203.0.113.7"},
}

func TestClientIPResistsForgedForwardedFor(t *testing.T) {
	chains := []struct {
		numberOfProxies, trustProxy string
		proxies                     []string // outermost first
	}{
		{numberOfProxies: "0", proxies: nil},
		{numberOfProxies: "1", proxies: []string{"10.0.0.1"}},
		{numberOfProxies: "2", proxies: []string{"10.0.0.1", "10.0.0.2"}},
		{trustProxy: "false", proxies: nil},
		{trustProxy: "true", proxies: []string{"10.0.0.1"}},
		{trustProxy: "2", proxies: []string{"10.0.0.1", "10.0.0.2"}},
		{trustProxy: "10.0.0.0/8", proxies: []string{"10.0.0.1"}},
		{trustProxy: "10.0.0.0/8", proxies: []string{"10.0.0.1", "10.0.0.2"}},
		{trustProxy: "10.0.0.1, 10.0.0.2", proxies: []string{"10.0.0.1", "10.0.0.2"}},
		{trustProxy: "uniquelocal", proxies: []string{"10.0.0.1", "fd00::2"}},
		{trustProxy: "::ffff:10.0.0.0/104, fd00::/8", proxies: []string{"10.0.0.1", "fd00::2"}},
	}
	for _, ch := range chains {
		res, err := NewIPResolver(ch.numberOfProxies, ch.trustProxy)
		require.NoError(t, err)
		for cname, c := range clients {
			for fname, forged := range forgeries {
				for _, style := range proxyStyles {
					name := fmt.Sprintf("N=%q T=%q via %v/%s/%s/%s", ch.numberOfProxies, ch.trustProxy, ch.proxies, cname, fname, style.name)
					r := viaProxies(style, c.addr, forged, ch.proxies)
					require.Equal(t, c.want, res.ClientIP(r), name)
				}
			}
		}
	}
}

func TestClientIPCases(t *testing.T) {
	tests := []struct {
		name                        string
		numberOfProxies, trustProxy string
		remote                      string
		xff                         []string
		want                        string
	}{
		// No proxies: the header is the client's own words and is ignored.
		{name: "0 hops socket", remote: "203.0.113.7:5555", want: "203.0.113.7"},
		{name: "0 hops ignores header", remote: "203.0.113.7:5555", xff: []string{"1.1.1.1"}, want: "203.0.113.7"},
		{name: "ipv6 socket with port", remote: "[2001:db8::7]:5555", want: "2001:db8::7"},
		{name: "socket without port", remote: "203.0.113.7", want: "203.0.113.7"},
		{name: "zoned link-local socket", remote: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "mapped socket", remote: "[::ffff:203.0.113.7]:80", want: "203.0.113.7"},
		{name: "unix socket peer kept raw", remote: "@", want: "@"},
		{name: "empty peer", remote: "", want: ""},

		// Hop counts.
		{name: "1 hop rightmost", numberOfProxies: "1", remote: "10.0.0.1:80", xff: []string{"1.1.1.1, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "1 hop no header means socket", numberOfProxies: "1", remote: "10.0.0.1:80", want: "10.0.0.1"},
		{name: "1 hop bracketed ipv6 entry", numberOfProxies: "1", remote: "10.0.0.1:80", xff: []string{"[2001:db8::1]"}, want: "2001:db8::1"},
		{name: "2 hops across header lines", numberOfProxies: "2", remote: "10.0.0.2:80", xff: []string{"9.9.9.9, 203.0.113.7", "10.0.0.1"}, want: "203.0.113.7"},
		// Fewer entries than proxies: the leftmost entry, which a proxy wrote.
		{name: "2 hops one entry", numberOfProxies: "2", remote: "10.0.0.2:80", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "2 hops no header", numberOfProxies: "2", remote: "10.0.0.2:80", want: "10.0.0.2"},
		// Invalid entry where the client should be: the nearest valid one to its right.
		{name: "2 hops invalid at position 2", numberOfProxies: "2", remote: "10.0.0.2:80", xff: []string{"1.1.1.1, unknown, 10.0.0.1"}, want: "10.0.0.1"},
		{name: "1 hop invalid entry falls back to socket", numberOfProxies: "1", remote: "10.0.0.1:80", xff: []string{"unknown"}, want: "10.0.0.1"},
		{name: "leading zeros are not an address", numberOfProxies: "1", remote: "10.0.0.1:80", xff: []string{"010.1.1.1"}, want: "10.0.0.1"},
		{name: "unix socket behind a proxy", numberOfProxies: "1", remote: "@", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "unix socket, nothing valid", numberOfProxies: "1", remote: "@", xff: []string{"junk"}, want: "@"},
		{name: "TRUST_PROXY wins over NUMBER_OF_PROXIES", numberOfProxies: "2", trustProxy: "1", remote: "10.0.0.1:80", xff: []string{"9.9.9.9, 203.0.113.7"}, want: "203.0.113.7"},

		// Trusted lists.
		{name: "list stops at first untrusted", trustProxy: "10.0.0.0/8", remote: "10.0.0.2:80", xff: []string{"10.9.9.9, 203.0.113.7, 10.0.0.1"}, want: "203.0.113.7"},
		{name: "list untrusted socket is the client", trustProxy: "10.0.0.0/8", remote: "198.51.100.1:80", xff: []string{"203.0.113.7"}, want: "198.51.100.1"},
		{name: "list all trusted gives leftmost", trustProxy: "10.0.0.0/8", remote: "10.0.0.2:80", xff: []string{"10.0.0.5, 10.0.0.1"}, want: "10.0.0.5"},
		{name: "list invalid entry stops at the proxy", trustProxy: "10.0.0.0/8", remote: "10.0.0.2:80", xff: []string{"1.1.1.1, junk"}, want: "10.0.0.2"},
		{name: "list loopback name", trustProxy: "loopback", remote: "[::1]:80", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "list unparseable socket", trustProxy: "10.0.0.0/8", remote: "@", xff: []string{"203.0.113.7"}, want: "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := NewIPResolver(tt.numberOfProxies, tt.trustProxy)
			require.NoError(t, err)
			require.Equal(t, tt.want, res.ClientIP(request(tt.remote, tt.xff...)))
		})
	}
}

func TestNewIPResolverSettings(t *testing.T) {
	tests := []struct {
		numberOfProxies, trustProxy string
		hops                        int
		trusted                     bool
		warning                     string // substring; "" means no warning
		err                         string // substring; non-empty means an error
	}{
		{},
		{numberOfProxies: " 2 ", hops: 2},
		{numberOfProxies: "0", hops: 0},
		{numberOfProxies: "two", err: "NUMBER_OF_PROXIES"},
		{numberOfProxies: "-1", err: "NUMBER_OF_PROXIES"},
		{numberOfProxies: "true", err: "NUMBER_OF_PROXIES"},
		{trustProxy: "false", hops: 0},
		{trustProxy: "FALSE", hops: 0},
		{trustProxy: "true", hops: 1, warning: "TRUST_PROXY=true"},
		{trustProxy: "True", hops: 1, warning: "TRUST_PROXY=true"},
		{trustProxy: "3", hops: 3},
		{numberOfProxies: "3", trustProxy: "false", hops: 0, warning: "NUMBER_OF_PROXIES=3 is ignored"},
		{trustProxy: "10.0.0.0/8, 192.168.1.1,loopback", trusted: true},
		{trustProxy: "2001:db8::/32", trusted: true},
		{trustProxy: "10.0.0.0/33", err: "TRUST_PROXY"},
		{trustProxy: "proxy.internal", err: "TRUST_PROXY"},
		{trustProxy: " , ", err: "TRUST_PROXY"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("N=%q T=%q", tt.numberOfProxies, tt.trustProxy)
		res, err := NewIPResolver(tt.numberOfProxies, tt.trustProxy)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, name)
			continue
		}
		require.NoError(t, err, name)
		require.Equal(t, tt.hops, res.hops, name)
		require.Equal(t, tt.trusted, res.trusted != nil, name)
		if tt.warning == "" {
			require.Empty(t, res.Warning(), name)
		} else {
			require.Contains(t, res.Warning(), tt.warning, name)
		}
	}
}
