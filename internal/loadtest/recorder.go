package loadtest

import (
	"sync"
	"time"
)

// recorder collects measured outcomes from every client goroutine; warm-up ones are dropped
// on arrival.
type recorder struct {
	mu        sync.Mutex
	requests  int
	successes int
	latency   []time.Duration
	ttft      []time.Duration
	ttlt      []time.Duration
	errors    map[string]int
	examples  map[string]string
	lastEnd   time.Time
}

func newRecorder() *recorder {
	return &recorder{errors: map[string]int{}, examples: map[string]string{}}
}

func (c *recorder) add(o outcome) {
	if o.warmup {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if o.end.After(c.lastEnd) {
		c.lastEnd = o.end
	}
	if o.kind != "" {
		c.errors[o.kind]++
		if _, ok := c.examples[o.kind]; !ok {
			c.examples[o.kind] = o.detail
		}
		return
	}
	c.successes++
	c.latency = append(c.latency, o.latency())
	if o.ttft > 0 {
		c.ttft = append(c.ttft, o.ttft)
		c.ttlt = append(c.ttlt, o.ttlt)
	}
}

// fill writes the counts and distributions into r; measuredStart is when the measured phase
// began (zero if it never did).
func (c *recorder) fill(r *Report, measuredStart time.Time, streaming bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Requests, r.Successes = c.requests, c.successes
	r.Errors, r.ErrorExamples = c.errors, c.examples
	if !measuredStart.IsZero() && c.lastEnd.After(measuredStart) {
		r.Elapsed = c.lastEnd.Sub(measuredStart)
		r.Throughput = float64(c.successes) / r.Elapsed.Seconds()
	}
	r.Latency = summarize(c.latency)
	if streaming {
		ttft, ttlt := summarize(c.ttft), summarize(c.ttlt)
		r.TTFT, r.TTLT = &ttft, &ttlt
	}
}
