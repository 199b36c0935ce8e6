package netguard

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckURLRefusesSpecialDestinations(t *testing.T) {
	p := Policy{Enforce: true, Resolver: newFakeResolver(nil)}
	urls := []string{
		"http://127.0.0.1/", "http://127.0.0.1:8080/x", "https://10.1.2.3/", "http://172.16.0.1/",
		"http://192.168.0.1/", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0:80/",
		"http://100.64.0.1/", "http://224.0.0.1/", "http://255.255.255.255/",
		"http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
		"http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::1]/", "http://[fe80::1%25lo]/", "http://[fd00:ec2::254]/",
		"http://[ff02::1]/", "http://[::ffff:169.254.169.254]/",
		"http://localhost/", "http://LOCALHOST./", "http://app.localhost/",
		"http://metadata.google.internal/computeMetadata/v1/", "http://127.0.0.1./",
		"http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",
	}
	for _, u := range urls {
		err := p.CheckURL(context.Background(), u)
		require.ErrorIs(t, err, ErrForbidden, u)
	}
	// Go's URL parser refuses percent-encoded hosts outright.
	require.Error(t, p.CheckURL(context.Background(), "http://127%2E0%2E0%2E1/"))
}

func TestCheckURLRefusesOddIPv4Spellings(t *testing.T) {
	odd := []string{
		"http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://0x7f000001/",
		"http://127.1/", "http://0177.0.0.1/", "http://0x7f.0x0.0x0.0x1/", "http://0/",
	}
	for _, enforce := range []bool{true, false} {
		p := Policy{Enforce: enforce, Allow: []string{"127.0.0.0/8"}, Resolver: newFakeResolver(nil)}
		for _, u := range odd {
			require.ErrorIs(t, p.CheckURL(context.Background(), u), ErrForbidden, "%s enforce=%v", u, enforce)
		}
	}
}

func TestCheckURLSchemes(t *testing.T) {
	p := Policy{Enforce: true, Resolver: newFakeResolver(map[string][]string{"example.test": {"93.184.216.34"}})}
	for _, u := range []string{"file:///etc/passwd", "ftp://example.test/", "gopher://example.test/", "javascript:alert(1)", "//example.test/", "example.test/path"} {
		require.ErrorIs(t, p.CheckURL(context.Background(), u), ErrForbidden, u)
	}
	require.NoError(t, p.CheckURL(context.Background(), "https://example.test/path?q=1"))
	require.NoError(t, p.CheckURL(context.Background(), "HTTP://93.184.216.34:8080/"))
}

func TestCheckURLResolvedAddresses(t *testing.T) {
	res := newFakeResolver(map[string][]string{
		"public.test":   {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"internal.test": {"10.0.0.5"},
		"mixed.test":    {"93.184.216.34", "127.0.0.1"},
		"mapped.test":   {"::ffff:169.254.169.254"},
	})
	p := Policy{Enforce: true, Resolver: res}
	ctx := context.Background()
	require.NoError(t, p.CheckURL(ctx, "http://public.test/"))
	require.ErrorIs(t, p.CheckURL(ctx, "http://internal.test/"), ErrForbidden)
	require.ErrorIs(t, p.CheckURL(ctx, "http://mixed.test/"), ErrForbidden, "one bad answer taints the host")
	require.ErrorIs(t, p.CheckURL(ctx, "http://mapped.test/"), ErrForbidden)

	err := p.CheckURL(ctx, "http://missing.test/")
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrForbidden), "resolution failure is not a policy refusal")
}

func TestCheckURLAllowAndDeny(t *testing.T) {
	res := newFakeResolver(map[string][]string{"api.corp": {"10.0.0.7"}, "other.corp": {"10.0.0.8"}})
	ctx := context.Background()

	p := Policy{Enforce: true, Allow: []string{"api.corp"}, Resolver: res}
	require.NoError(t, p.CheckURL(ctx, "http://api.corp/"), "allow-listed name vouches for its private address")
	require.ErrorIs(t, p.CheckURL(ctx, "http://other.corp/"), ErrForbidden)

	p = Policy{Enforce: true, Allow: []string{"10.0.0.0/24"}, Deny: []string{"10.0.0.8"}, Resolver: res}
	require.NoError(t, p.CheckURL(ctx, "http://api.corp/"))
	require.ErrorIs(t, p.CheckURL(ctx, "http://other.corp/"), ErrForbidden, "deny beats allow")

	p = Policy{Enforce: true, Allow: []string{"api.corp"}, Deny: []string{"api.corp"}, Resolver: res}
	require.ErrorIs(t, p.CheckURL(ctx, "http://api.corp/"), ErrForbidden, "deny beats allow for names too")

	p = Policy{Enforce: true, Allow: []string{"127.0.0.1:8080"}, Resolver: res}
	require.NoError(t, p.CheckURL(ctx, "http://127.0.0.1:8080/"))
	require.ErrorIs(t, p.CheckURL(ctx, "http://127.0.0.1:8081/"), ErrForbidden, "port-scoped entry")
}

// Flowise semantics: HTTP_SECURITY_CHECK=false drops the built-in list but
// keeps HTTP_DENY_LIST.
func TestCheckURLEnforceFalse(t *testing.T) {
	res := newFakeResolver(map[string][]string{"internal.test": {"10.0.0.5"}})
	ctx := context.Background()
	p := Policy{Enforce: false, Deny: []string{"169.254.169.254", "10.0.0.0/8", "evil.test"}, Resolver: res}
	require.NoError(t, p.CheckURL(ctx, "http://127.0.0.1/"))
	require.NoError(t, p.CheckURL(ctx, "http://[::1]/"))
	require.NoError(t, p.CheckURL(ctx, "http://192.168.1.1/"))
	require.ErrorIs(t, p.CheckURL(ctx, "http://169.254.169.254/"), ErrForbidden)
	require.ErrorIs(t, p.CheckURL(ctx, "http://[::ffff:169.254.169.254]/"), ErrForbidden)
	require.ErrorIs(t, p.CheckURL(ctx, "http://internal.test/"), ErrForbidden)
	require.ErrorIs(t, p.CheckURL(ctx, "http://evil.test/"), ErrForbidden)
	require.ErrorIs(t, p.CheckURL(ctx, "file:///etc/passwd"), ErrForbidden)
}

func TestForbiddenErrorNeverLeaksCredentials(t *testing.T) {
	p := Policy{Enforce: true}
	err := p.CheckURL(context.Background(), "http://admin:s3cret@127.0.0.1/path?token=t0ken")
	require.ErrorIs(t, err, ErrForbidden)
	msg := err.Error()
	require.Contains(t, msg, "127.0.0.1")
	require.Contains(t, msg, "loopback")
	require.NotContains(t, msg, "s3cret")
	require.NotContains(t, msg, "t0ken")
	require.NotContains(t, msg, "admin")

	err = p.CheckURL(context.Background(), "http://admin:s3cret@exa mple.com/")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}

func TestInvalidHandBuiltPolicyRefuses(t *testing.T) {
	p := Policy{Enforce: false, Deny: []string{"not a host"}}
	require.ErrorIs(t, p.CheckURL(context.Background(), "http://93.184.216.34/"), ErrForbidden)
}
