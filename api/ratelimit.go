package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/models"
)

// clientIP is the request's client address as NUMBER_OF_PROXIES / TRUST_PROXY resolve it.
func (s *Server) clientIP(c *gin.Context) string {
	if s.cfg.ClientIP == nil {
		return c.RemoteIP()
	}
	return s.cfg.ClientIP.ClientIP(c.Request)
}

// showIP answers GET /api/v1/ip, so an operator can check the proxy settings from a client.
func (s *Server) showIP(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{
		"ip":  s.clientIP(c),
		"msg": "Check that this is your own public address. If it is a load balancer's or proxy's, set NUMBER_OF_PROXIES (or TRUST_PROXY) to the number of proxies in front of Flowgate.",
	})
}

// flowRule reads the chatflow's apiConfig.rateLimit, once per request; on failure it has
// answered. Without a limiter every rule is off.
func (s *Server) flowRule(c *gin.Context, f *models.ChatFlow) (ratelimit.Rule, bool) {
	if s.cfg.Limiter == nil {
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

// limit applies a chatflow's rate limit rule to a flow-triggering request. Every limited
// answer carries RateLimit-* headers; a refusal is 429 with the flow's limitMsg as the body,
// as Flowise answers. On refusal it has answered.
func (s *Server) limit(c *gin.Context, chatflowID string, rule ratelimit.Rule, sessionID string) bool {
	if !rule.Enabled {
		return true
	}
	client := ratelimit.Client{IP: s.clientIP(c), SessionID: sessionID}
	if slices.Contains(rule.KeyBy, ratelimit.KeyAPIKey) {
		client.APIKey = s.verifiedKeyID(c)
	}
	d, err := s.cfg.Limiter.Take(c, chatflowID, rule, rule.ClientKey(client))
	switch {
	case errors.Is(err, ratelimit.ErrStoreUnavailable):
		// FLOWGATE_RATE_LIMIT_FAIL_OPEN decided: through with a warning, or 503 until it is back.
		s.log.Warn("rate limit store unavailable", "chatflowId", chatflowID, "allowed", d.Allowed, "error", err)
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
		c.Abort()
		c.String(http.StatusTooManyRequests, rule.Message)
		return false
	}
	return true
}

// verifiedKeyID is the id of the request's API key when it verifies, else "". Only a verified
// key may name a bucket: a made-up key would otherwise get a fresh one per request.
func (s *Server) verifiedKeyID(c *gin.Context) string {
	token := bearer(c)
	if token == "" {
		return ""
	}
	key, ok, err := s.keys.Verify(c, token)
	if err != nil || !ok {
		return ""
	}
	return key.ID
}
