package loadtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTargetMustBeLoopbackUnlessAllowed(t *testing.T) {
	ctx := context.Background()
	for _, ok := range []string{"http://127.0.0.1:3000", "http://127.0.0.2", "http://[::1]:3000/", "https://localhost:8443", "http://LOCALHOST"} {
		require.NoError(t, checkTarget(ctx, ok, false), ok)
	}
	for _, remote := range []string{"http://10.1.2.3:3000", "http://[2001:db8::1]:3000", "http://0.0.0.0:3000"} {
		require.ErrorContains(t, checkTarget(ctx, remote, false), "not a loopback", remote)
		require.NoError(t, checkTarget(ctx, remote, true), "allowed on purpose: %s", remote)
	}
	require.ErrorContains(t, checkTarget(ctx, "ftp://127.0.0.1", true), "http")
	require.ErrorContains(t, checkTarget(ctx, "http://", true), "no host")

	// Run checks before it sends anything.
	_, err := Run(ctx, Options{Target: "http://192.0.2.1:3000", FlowID: "f", Concurrency: 1, Count: 1})
	require.ErrorContains(t, err, "not a loopback")
}
