package api

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/models"
)

// clientIP is the request's client address as NUMBER_OF_PROXIES / TRUST_PROXY resolve it
// (ips); without a resolver, the socket's.
func clientIP(ips *ratelimit.IPResolver, c *gin.Context) string {
	if ips == nil {
		return c.RemoteIP()
	}
	return ips.ClientIP(c.Request)
}

// showIP answers GET /api/v1/ip, so an operator can check the proxy settings from a client.
func showIP(ips *ratelimit.IPResolver) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{
			"ip":  clientIP(ips, c),
			"msg": "Check that this is your own public address. If it is a load balancer's or proxy's, set NUMBER_OF_PROXIES (or TRUST_PROXY) to the number of proxies in front of Flowgate.",
		})
	}
}

// rateLimits enforces chatflows' apiConfig.rateLimit on the routes that run them.
type rateLimits struct {
	// limiter counts requests; nil turns every rule off.
	limiter *ratelimit.Limiter
	ips     *ratelimit.IPResolver
	// ipv6Prefix is how many bits of an IPv6 client address are counted (see
	// ratelimit.CountedAddress).
	ipv6Prefix int
	// auth verifies the API key of rules that count by key.
	auth *auth
	log  *slog.Logger
	// metrics counts refusals (nil: off).
	metrics *telemetry.Metrics
}

// rule reads the chatflow's apiConfig.rateLimit, once per request; on failure it has
// answered. Without a limiter every rule is off.
func (l *rateLimits) rule(c *gin.Context, f *models.ChatFlow) (ratelimit.Rule, bool) {
	if l.limiter == nil {
		return ratelimit.Rule{}, true
	}
	rule, err := ratelimit.ParseRule(deref(f.APIConfig))
	if err != nil {
		fail(c, http.StatusInternalServerError, "Chatflow %s has an unusable rate limit: %v", f.ID, err)
		return rule, false
	}
	return rule, true
}

// bySession reports whether a rule counts by session, which is read from the request body;
// other limits are taken before the body is read.
func bySession(rule ratelimit.Rule) bool {
	return rule.Enabled && slices.Contains(rule.KeyBy, ratelimit.KeySessionID)
}

// take applies a chatflow's rate limit rule to a flow-triggering request. Every limited
// answer carries RateLimit-* headers; a refusal is 429 with the flow's limitMsg as the body,
// as Flowise answers. On refusal it has answered.
func (l *rateLimits) take(c *gin.Context, chatflowID string, rule ratelimit.Rule, sessionID string) bool {
	if !rule.Enabled {
		return true
	}
	client := ratelimit.Client{IP: ratelimit.CountedAddress(clientIP(l.ips, c), l.ipv6Prefix), SessionID: sessionID}
	if slices.Contains(rule.KeyBy, ratelimit.KeyAPIKey) {
		client.APIKey = l.auth.verifiedKeyID(c)
	}
	d, err := l.limiter.Take(c, chatflowID, rule, rule.ClientKey(client))
	switch {
	case errors.Is(err, ratelimit.ErrStoreUnavailable):
		// FLOWGATE_RATE_LIMIT_FAIL_OPEN decided: through with a warning, or 503 until it is back.
		l.log.Warn("rate limit store unavailable", "chatflowId", chatflowID, "allowed", d.Allowed, "error", err)
		if !d.Allowed {
			fail(c, http.StatusServiceUnavailable, "The rate limit store is unavailable; try again shortly")
			return false
		}
	case err != nil: // the client went away while the limit was being checked
		fail(c, http.StatusServiceUnavailable, "The rate limit could not be checked; try again")
		return false
	}
	d.SetHeaders(c.Writer.Header())
	if !d.Allowed {
		l.metrics.RateLimited(c, chatflowID)
		failText(c, http.StatusTooManyRequests, rule.Message)
		return false
	}
	return true
}
