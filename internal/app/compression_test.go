package app

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// TestGRPCCompressionOffOnLoopback: calls to a Temporal server on this machine go
// uncompressed; a remote server keeps the SDK's default (gzip).
func TestGRPCCompressionOffOnLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:7233", "localhost:7233", "LocalHost.:7233", "[::1]:7233", "[::1]", "127.0.0.2:7233"} {
		require.IsType(t, &client.GrpcCompressionNone{}, grpcCompression(addr), addr)
	}
	// 0.0.0.0 reaches this machine too, but is not an address to dial; it keeps the default.
	for _, addr := range []string{"temporal:7233", "10.0.0.5:7233", "my-ns.tmprl.cloud:7233", "0.0.0.0:7233"} {
		require.Nil(t, grpcCompression(addr), addr)
	}
}
