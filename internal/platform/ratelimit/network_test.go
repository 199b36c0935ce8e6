package ratelimit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountedAddress(t *testing.T) {
	cases := []struct {
		ip     string
		prefix int
		want   string
	}{
		{"203.0.113.7", 64, "203.0.113.7"},
		{"::ffff:203.0.113.7", 64, "203.0.113.7"}, // IPv4-mapped: an IPv4 client
		{"::ffff:203.0.113.7", 128, "203.0.113.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", 0, "2001:db8:1:2::/64"}, // out of range: the default
		{"2001:db8:1:2::1", 129, "2001:db8:1:2::/64"},
		{"2001:db8:1:2ff::1", 56, "2001:db8:1:200::/56"},
		{"2001:db8:1:2::1", 128, "2001:db8:1:2::1/128"},
		{"fe80::1%eth0", 64, "fe80::/64"}, // zones are local interface names
		{"@", 64, "@"},                    // a Unix socket peer: as is
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, CountedAddress(tc.ip, tc.prefix), "%s /%d", tc.ip, tc.prefix)
	}
}

// Rotating addresses inside one /64 must not give a client a fresh count.
func TestClientKeyCountsIPv6PerNetwork(t *testing.T) {
	r := Rule{KeyBy: []KeyKind{KeyIP}}
	key := func(ip string) string { return r.ClientKey(Client{IP: CountedAddress(ip, DefaultIPv6Prefix)}) }
	require.Equal(t, key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:fffe"))
	require.NotEqual(t, key("2001:db8:1:2::1"), key("2001:db8:1:3::1"), "the next /64 is another client")
	require.Equal(t, key("203.0.113.7"), key("::ffff:203.0.113.7"))
	require.NotEqual(t, key("203.0.113.7"), key("203.0.113.8"), "IPv4 counts per address")
}
