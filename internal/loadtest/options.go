package loadtest

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Options describes one load run against an existing server.
type Options struct {
	// Target is the server's base URL (scheme, host, port), e.g. http://127.0.0.1:3000.
	Target string
	// FlowID is the chatflow to predict.
	FlowID string
	// APIKey, when set, is sent as "Authorization: Bearer <key>" (needed when the chatflow is
	// bound to a key).
	APIKey string
	// Question is the prediction's question; empty means "hello", as in Flowise's own load test.
	Question string
	// Streaming asks for SSE (`"streaming": true`) and measures time to first and last token.
	Streaming bool

	// Concurrency is the number of clients in the closed model: each sends its next request as
	// soon as the previous one is answered. Used when Rate is 0.
	Concurrency int
	// Rate, when positive, selects the open model: requests start on a fixed schedule of Rate
	// per second whether or not earlier ones were answered, as real users arrive.
	Rate float64
	// MaxInFlight caps outstanding requests in the open model (default 1000). A request due while
	// the cap is reached is not sent and counts as a "dropped" error, so an overloaded server
	// shows up as errors instead of silently lowering the arrival rate.
	MaxInFlight int

	// Duration and Count bound the measured phase (after warm-up); the run stops at whichever
	// comes first. At least one must be set: an unbounded run is refused.
	Duration time.Duration
	Count    int
	// WarmupCount or WarmupDuration (not both) are requests sent before the measured phase and
	// left out of every statistic: they fill connection pools, caches and the task queue.
	WarmupCount    int
	WarmupDuration time.Duration
	// Timeout bounds each request, streaming included (default 60 s).
	Timeout time.Duration

	// AllowRemote permits targets that are not loopback addresses. Off by default so that a
	// typo cannot turn a benchmark into a denial of service against someone else's server.
	AllowRemote bool
	// SameChat sends every request with the same chatId. Off by default: Flowgate runs one
	// prediction at a time per chat (409 otherwise), so a shared chat would serialize the load.
	SameChat bool

	// PIDs are server processes whose CPU and memory are sampled over the measured phase and
	// summed (several for queue mode). Linux only (/proc).
	PIDs []int
	// SampleInterval is how often RSS is sampled for its peak (default 250 ms).
	SampleInterval time.Duration

	// Client overrides the HTTP client; by default one with keep-alive and enough idle
	// connections per host for every concurrent request is made.
	Client *http.Client
}

// Defaults.
const (
	DefaultQuestion    = "hello"
	DefaultTimeout     = 60 * time.Second
	DefaultMaxInFlight = 1000
	defaultSample      = 250 * time.Millisecond
)

// withDefaults fills unset fields and checks the rest; it does not check the target's address
// (see checkTarget), which needs a resolver.
func (o Options) withDefaults() (Options, error) {
	if o.Question == "" {
		o.Question = DefaultQuestion
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.SampleInterval == 0 {
		o.SampleInterval = defaultSample
	}
	if o.Rate > 0 && o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	var errs []error
	if o.FlowID == "" {
		errs = append(errs, errors.New("a chatflow id is needed"))
	}
	if o.Duration <= 0 && o.Count <= 0 {
		errs = append(errs, errors.New("a duration or a request count is needed: refusing an unbounded run"))
	}
	if o.Duration < 0 || o.Count < 0 || o.WarmupCount < 0 || o.WarmupDuration < 0 || o.Timeout < 0 {
		errs = append(errs, errors.New("durations and counts must not be negative"))
	}
	if o.WarmupCount > 0 && o.WarmupDuration > 0 {
		errs = append(errs, errors.New("give a warm-up count or a warm-up duration, not both"))
	}
	switch {
	case o.Rate < 0:
		errs = append(errs, fmt.Errorf("rate must be positive, got %g", o.Rate))
	case o.Rate > 0 && o.MaxInFlight < 1:
		errs = append(errs, fmt.Errorf("the in-flight cap must be at least 1, got %d", o.MaxInFlight))
	case o.Rate == 0 && o.Concurrency < 1:
		errs = append(errs, fmt.Errorf("concurrency must be at least 1 (or set a rate), got %d", o.Concurrency))
	}
	return o, errors.Join(errs...)
}

// slots is how many requests can be outstanding at once: the client's pool is sized to it.
func (o Options) slots() int {
	if o.Rate > 0 {
		return o.MaxInFlight
	}
	return o.Concurrency
}
