package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Run sends predictions as o describes and reports on the measured phase. When ctx ends early
// (Ctrl-C) it stops sending, cancels what is in flight and returns the partial report with
// ctx's error.
func Run(ctx context.Context, o Options) (*Report, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("load options: %w", err)
	}
	if err := checkTarget(ctx, o.Target, o.AllowRemote); err != nil {
		return nil, err
	}
	r := newRunner(o)
	if o.Client == nil {
		defer r.client.CloseIdleConnections()
	}
	return r.run(ctx)
}

// runner is one run in progress.
type runner struct {
	o          Options
	url        string
	client     *http.Client
	chatPrefix string
	rec        *recorder

	smu     sync.Mutex
	sampler *sampler

	// afterTick, in tests, is called after the open model has decided about its k-th request.
	afterTick func(k int)
}

func newRunner(o Options) *runner {
	client := o.Client
	if client == nil {
		client = newClient(o.slots())
	}
	return &runner{
		o:          o,
		url:        strings.TrimRight(o.Target, "/") + "/api/v1/prediction/" + o.FlowID,
		client:     client,
		chatPrefix: "bench-" + uuid.NewString()[:8],
		rec:        newRecorder(),
	}
}

// newClient keeps a connection per concurrent request alive between requests, so the run
// measures predictions rather than TCP handshakes. There is no client-wide timeout: each
// request has its own deadline, streaming included.
func newClient(slots int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        slots,
		MaxIdleConnsPerHost: slots,
		IdleConnTimeout:     90 * time.Second,
		// A benchmark talks to the server itself, never through a proxy from the environment,
		// and asks for no compression, which would also hold SSE events back.
		Proxy:              nil,
		DisableCompression: true,
	}}
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	p := newPlan(r.o, time.Now(), r.measuring)
	if r.o.Rate > 0 {
		r.open(ctx, p)
	} else {
		r.closed(ctx, p)
	}
	rep := &Report{
		Target: r.o.Target, FlowID: r.o.FlowID, Model: "closed", Concurrency: r.o.Concurrency,
		Streaming: r.o.Streaming, Warmup: p.warmups(),
	}
	if r.o.Rate > 0 {
		rep.Model, rep.Concurrency, rep.Rate, rep.MaxInFlight = "open", 0, r.o.Rate, r.o.MaxInFlight
	}
	r.rec.fill(rep, p.measuredSince(), r.o.Streaming)
	r.smu.Lock()
	if r.sampler != nil {
		res := r.sampler.finish()
		if rep.Successes > 0 {
			res.CPUPerPredictionMS = res.CPUSeconds * 1000 / float64(rep.Successes)
		}
		rep.Resources = &res
	}
	r.smu.Unlock()
	return rep, ctx.Err()
}

// measuring starts the resource sampler with the measured phase.
func (r *runner) measuring(at time.Time) {
	if len(r.o.PIDs) == 0 {
		return
	}
	r.smu.Lock()
	defer r.smu.Unlock()
	r.sampler = startSampler(r.o.PIDs, r.o.SampleInterval, at)
}

// closed is the closed model: Concurrency clients, each sending its next request when the
// previous one is answered.
func (r *runner) closed(ctx context.Context, p *plan) {
	var wg sync.WaitGroup
	for range r.o.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				tk, ok := p.next(time.Now())
				if !ok {
					return
				}
				r.rec.add(r.predict(ctx, tk))
			}
		})
	}
	wg.Wait()
}

// open is the open model: request k is due at start + k/Rate and is sent then, however many
// earlier ones are still unanswered (up to MaxInFlight). A scheduler that wakes late sends
// what is overdue at once, so the count of requests follows the schedule, not the server.
func (r *runner) open(ctx context.Context, p *plan) {
	inFlight := make(chan struct{}, r.o.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	interval := float64(time.Second) / r.o.Rate
	for k := 0; ; k++ {
		due := p.start.Add(time.Duration(float64(k) * interval))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				p.stop()
				return
			}
		}
		tk, ok := p.next(due)
		if !ok {
			return
		}
		select {
		case inFlight <- struct{}{}:
			wg.Go(func() {
				defer func() { <-inFlight }()
				r.rec.add(r.predict(ctx, tk))
			})
		default:
			r.rec.add(outcome{warmup: tk.warmup, start: due, end: due, kind: ErrDropped,
				detail: fmt.Sprintf("due while %d requests were in flight", r.o.MaxInFlight)})
		}
		if r.afterTick != nil {
			r.afterTick(k)
		}
	}
}
