package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/ratelimit"
)

// TestRateLimitCountsIPv6PerNetwork: a client that rotates its address inside its /64 is one
// client; the next /64 is another. IPv4-mapped addresses count as their IPv4 address.
func TestRateLimitCountsIPv6PerNetwork(t *testing.T) {
	limiter := ratelimit.New(ratelimit.DefaultConfig())
	t.Cleanup(func() { _ = limiter.Close(t.Context()) })
	rule := ratelimit.Rule{Enabled: true, Max: 1, Window: time.Minute, Message: "slow down", KeyBy: []ratelimit.KeyKind{ratelimit.KeyIP}}
	take := func(l *rateLimits, remoteAddr string) int {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/prediction/flow", nil)
		c.Request.RemoteAddr = remoteAddr
		if l.take(c, "flow", rule, "") {
			return http.StatusOK
		}
		return rec.Code
	}
	l := &rateLimits{limiter: limiter, log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	require.Equal(t, http.StatusOK, take(l, "[2001:db8:1:2::1]:40000"))
	require.Equal(t, http.StatusTooManyRequests, take(l, "[2001:db8:1:2:dead:beef:0:7]:40001"), "same /64")
	require.Equal(t, http.StatusOK, take(l, "[2001:db8:1:3::1]:40002"), "another /64")

	require.Equal(t, http.StatusOK, take(l, "203.0.113.7:40003"))
	require.Equal(t, http.StatusTooManyRequests, take(l, "[::ffff:203.0.113.7]:40004"), "IPv4-mapped is the IPv4 client")

	// A wider configured prefix joins the two /64s of one /56.
	wide := &rateLimits{limiter: limiter, ipv6Prefix: 56, log: l.log}
	require.Equal(t, http.StatusOK, take(wide, "[2001:db8:2:100::1]:40005"))
	require.Equal(t, http.StatusTooManyRequests, take(wide, "[2001:db8:2:1ff::1]:40006"))
}
