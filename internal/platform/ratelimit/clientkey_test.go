package ratelimit

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClientKey(t *testing.T) {
	byIP := Rule{KeyBy: []KeyKind{KeyIP}}
	bySession := Rule{KeyBy: []KeyKind{KeySessionID}}
	byKeyAndIP := Rule{KeyBy: []KeyKind{KeyIP, KeyAPIKey}}

	c := Client{IP: "203.0.113.7", APIKey: "key-1", SessionID: "s-1"}
	require.Equal(t, byIP.ClientKey(c), Rule{}.ClientKey(c), "no KeyBy means ip")
	require.Equal(t, byIP.ClientKey(c), byIP.ClientKey(Client{IP: c.IP, SessionID: "other"}), "ip rule ignores other parts")
	require.NotEqual(t, byKeyAndIP.ClientKey(c), byKeyAndIP.ClientKey(Client{IP: c.IP, APIKey: "key-2"}))
	require.NotEqual(t, byKeyAndIP.ClientKey(c), byKeyAndIP.ClientKey(Client{IP: "203.0.113.8", APIKey: "key-1"}))

	// A request without a session id is counted by IP, not in one bucket with all others.
	require.NotEqual(t, bySession.ClientKey(Client{IP: "203.0.113.7"}), bySession.ClientKey(Client{IP: "203.0.113.8"}))
	// And a client cannot name its session so that it lands in that IP fallback bucket.
	victim := bySession.ClientKey(Client{IP: "203.0.113.7"})
	for _, forged := range []string{"203.0.113.7", `ip="203.0.113.7"`, `!ip="203.0.113.7"`, `"203.0.113.7"`} {
		require.NotEqual(t, victim, bySession.ClientKey(Client{IP: "198.51.100.1", SessionID: forged}), forged)
	}
	// Separators inside values cannot shift part boundaries.
	require.NotEqual(t,
		byKeyAndIP.ClientKey(Client{IP: "a", APIKey: `b"&apiKey="c`}),
		byKeyAndIP.ClientKey(Client{IP: `a"&apiKey="b`, APIKey: "c"}))
}

func TestStoreKeySeparatesScopesLimitsAndClients(t *testing.T) {
	r := Rule{Enabled: true, Max: 5, Window: time.Minute}
	base := storeKey("flow-a", r, "ip=1")
	require.True(t, strings.HasPrefix(base, "rl1:6:flow-a:5:60000000000:"), base)

	distinct := []string{
		storeKey("flow-b", r, "ip=1"),
		storeKey("flow-a", Rule{Enabled: true, Max: 6, Window: time.Minute}, "ip=1"),
		storeKey("flow-a", Rule{Enabled: true, Max: 5, Window: time.Hour}, "ip=1"),
		storeKey("flow-a", r, "ip=2"),
		// Same bytes split differently between scope and client.
		storeKey("flow-a:5", r, "ip=1"),
	}
	seen := map[string]bool{base: true}
	for _, k := range distinct {
		require.False(t, seen[k], "key collision: %s", k)
		seen[k] = true
	}
	require.Equal(t, base, storeKey("flow-a", r, "ip=1"), "keys are deterministic")
	require.NotContains(t, storeKey("flow-a", r, "ip=203.0.113.7"), "203.0.113.7", "client part is hashed")
	require.Less(t, len(storeKey("f", r, strings.Repeat("x", 1<<20))), 100, "client part is bounded")
}
