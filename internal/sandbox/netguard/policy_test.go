package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePolicyDefaultsToEnforcing(t *testing.T) {
	p, err := ParsePolicy("", "", "")
	require.NoError(t, err)
	require.True(t, p.Enforce)
	require.Empty(t, p.Deny)
	require.Empty(t, p.Allow)
}

func TestParsePolicySecurityCheckValues(t *testing.T) {
	for _, v := range []string{"false", "FALSE", "0", " false "} {
		p, err := ParsePolicy(v, "", "")
		require.NoError(t, err, v)
		require.False(t, p.Enforce, v)
	}
	for _, v := range []string{"true", "1", "TRUE"} {
		p, err := ParsePolicy(v, "", "")
		require.NoError(t, err, v)
		require.True(t, p.Enforce, v)
	}
	_, err := ParsePolicy("nope", "", "")
	require.Error(t, err, "a typo must not silently disable the check")
}

func TestParsePolicyLists(t *testing.T) {
	p, err := ParsePolicy("true", " 10.0.0.0/8, 169.254.169.254 ,,evil.example ", "127.0.0.1:8080, *.corp, ::1")
	require.NoError(t, err)
	require.Equal(t, []string{"10.0.0.0/8", "169.254.169.254", "evil.example"}, p.Deny)
	require.Equal(t, []string{"127.0.0.1:8080", "*.corp", "::1"}, p.Allow)

	for _, bad := range []string{"10.0.0.0/33", "bad host", "host:0", "host:99999", "2130706433", "0x7f.1", "[::1"} {
		_, err := ParsePolicy("", bad, "")
		require.Error(t, err, bad)
		_, err = ParsePolicy("", "", bad)
		require.Error(t, err, bad)
	}
}

func TestPolicyFromEnv(t *testing.T) {
	env := map[string]string{
		EnvSecurityCheck: "false",
		EnvDenyList:      "169.254.169.254",
		EnvAllowList:     "10.1.2.3",
	}
	p, err := PolicyFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, Policy{Enforce: false, Deny: []string{"169.254.169.254"}, Allow: []string{"10.1.2.3"}}, p)
}

func TestParseRuleForms(t *testing.T) {
	cases := []struct {
		entry string
		want  rule
	}{
		{"10.0.0.0/8", rule{prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{"10.1.2.3/8", rule{prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{"::ffff:10.0.0.0/104", rule{prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{"::ffff:127.0.0.1", rule{prefix: netip.MustParsePrefix("127.0.0.1/32")}},
		{"FE80::1", rule{prefix: netip.MustParsePrefix("fe80::1/128")}},
		{"[::1]:8080", rule{prefix: netip.MustParsePrefix("::1/128"), port: 8080}},
		{"127.0.0.1:8080", rule{prefix: netip.MustParsePrefix("127.0.0.1/32"), port: 8080}},
		{"API.Internal.", rule{host: "api.internal"}},
		{"api.internal:8443", rule{host: "api.internal", port: 8443}},
		{"*.corp", rule{host: "corp", suffix: true}},
		{".corp", rule{host: "corp", suffix: true}},
	}
	for _, c := range cases {
		got, err := parseRule(c.entry)
		require.NoError(t, err, c.entry)
		require.Equal(t, c.want, got, c.entry)
	}
}

func TestRuleMatching(t *testing.T) {
	suffix, err := parseRule("*.corp")
	require.NoError(t, err)
	require.True(t, suffix.matchName("corp", 80))
	require.True(t, suffix.matchName("a.b.corp", 80))
	require.False(t, suffix.matchName("evilcorp", 80))

	withPort, err := parseRule("127.0.0.1:8080")
	require.NoError(t, err)
	require.True(t, withPort.matchAddr(netip.MustParseAddr("127.0.0.1"), 8080))
	require.False(t, withPort.matchAddr(netip.MustParseAddr("127.0.0.1"), 8081))
}
