package loadtest

import (
	"sync"
	"time"
)

// plan decides, request by request, whether the next one is warm-up, measured, or not sent
// because the run is over. Both load models ask it, so they share one definition of the phases:
// warm-up is the first WarmupCount requests or those issued in the first WarmupDuration; the
// measured phase starts with the first request after it and ends after Count measured requests
// or Duration after it started, whichever comes first.
type plan struct {
	warmupCount    int
	warmupDuration time.Duration
	count          int
	duration       time.Duration
	start          time.Time
	// onMeasure is called once, with the measured phase's start, before its first request.
	onMeasure func(time.Time)

	mu            sync.Mutex
	issued        int // requests handed out, warm-up included
	measured      int
	measuredStart time.Time
	done          bool
}

func newPlan(o Options, start time.Time, onMeasure func(time.Time)) *plan {
	return &plan{
		warmupCount: o.WarmupCount, warmupDuration: o.WarmupDuration,
		count: o.Count, duration: o.Duration, start: start, onMeasure: onMeasure,
	}
}

// ticket is one request the plan allows.
type ticket struct {
	index  int // unique within the run, warm-up included
	warmup bool
}

// next hands out the request issued at now (for the open model, its scheduled time, which keeps
// the schedule exact however late the scheduler wakes); ok is false once the run is over.
func (p *plan) next(now time.Time) (t ticket, ok bool) {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return ticket{}, false
	}
	warm := p.issued < p.warmupCount || (p.warmupDuration > 0 && now.Before(p.start.Add(p.warmupDuration)))
	var starting bool
	if !warm {
		if p.measuredStart.IsZero() {
			p.measuredStart, starting = now, true
		}
		if (p.count > 0 && p.measured >= p.count) ||
			(p.duration > 0 && !now.Before(p.measuredStart.Add(p.duration))) {
			p.done = true
			p.mu.Unlock()
			return ticket{}, false
		}
		p.measured++
	}
	t = ticket{index: p.issued, warmup: warm}
	p.issued++
	p.mu.Unlock()
	// Outside the lock: the callback starts the resource sampler, which reads /proc.
	if starting && p.onMeasure != nil {
		p.onMeasure(now)
	}
	return t, true
}

// stop ends the run early (the caller's context ended).
func (p *plan) stop() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
}

// measuredSince is when the measured phase started, zero if it never did.
func (p *plan) measuredSince() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.measuredStart
}

// warmups is how many warm-up requests were issued.
func (p *plan) warmups() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued - p.measured
}
