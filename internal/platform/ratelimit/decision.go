package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// Decision is the outcome of one Take. Limit == 0 means there is nothing to report: the
// rule is disabled, or the store failed and the request was let through.
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Time     // when the current window ends
	RetryAfter time.Duration // > 0 when !Allowed

	at time.Time // the limiter's clock at decision time, so headers are reproducible
}

// Headers returns the IETF draft RateLimit-* fields, plus Retry-After when the request is
// refused. Reset and Retry-After are whole seconds, rounded up so a client that waits that
// long is never early.
func (d Decision) Headers() map[string]string {
	if d.Limit <= 0 {
		return map[string]string{}
	}
	h := map[string]string{
		"RateLimit-Limit":     strconv.Itoa(d.Limit),
		"RateLimit-Remaining": strconv.Itoa(max(d.Remaining, 0)),
		"RateLimit-Reset":     strconv.FormatInt(ceilSeconds(d.Reset.Sub(d.at)), 10),
	}
	if !d.Allowed {
		h["Retry-After"] = strconv.FormatInt(max(ceilSeconds(d.RetryAfter), 1), 10)
	}
	return h
}

// SetHeaders writes Headers into h (for Gin: c.Writer.Header()).
func (d Decision) SetHeaders(h http.Header) {
	for k, v := range d.Headers() {
		h.Set(k, v)
	}
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
