package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// An answerer turns what happens during a turn into the client's answer: Flowise's JSON
// body, or its SSE stream. await calls it from one goroutine, and stops when event or idle
// return an error: the client is gone.
type answerer[R any] interface {
	// event passes on an event the run published, other than its saved answer.
	event(ev stream.Event) error
	// saved is the answer the run stored, which arrives before the workflow closes; ctx
	// bounds any call answering needs. It reports whether the client has been answered;
	// if not, the wait goes on until the run ends.
	saved(ctx context.Context, res workflows.PredictionResult) bool
	// ended is the run's end: its result, or why it failed.
	ended(res R, err error)
	// idle is called when nothing arrived for the turn's heartbeat interval.
	idle() error
}

// A turn is a started run and what the API waits on to answer from it.
type turn struct {
	// sub carries the run's events; it was subscribed to before the run started.
	sub stream.Subscription
	run client.WorkflowRun
	// replay are events read from sub before the wait (a resumed stream's backlog); they
	// are handled first.
	replay []stream.Event
	// timeout bounds the wait for the run; heartbeat is how long a stream may stay idle.
	timeout, heartbeat time.Duration
	// watchEndAfter is how long the wait relies on the run's saved answer alone before it
	// also asks Temporal for the run's end (0: at once).
	watchEndAfter time.Duration
}

// endWatchDelay is how long the wait for a chatflow run the request started relies on the run's
// saved answer alone. The saved answer comes through the stream broker and answers nearly every
// turn; watching the run's end is a long poll through the Temporal server (which the embedded
// server renews every second) that then mostly ends unused: at 50 clients and a 0 ms model it
// was 8.5% of all CPU. Only runs shorter than the delay save the poll: a run calling a real
// model for seconds is still watched from then on. A run that fails within the delay is
// answered up to the delay late.
const endWatchDelay = time.Second

// turn is the wait for a run whose events come on sub, watching its end at once: a run that
// answers at its end (an agentflow), or one joined late, whose saved answer may be gone.
func (p *predictions) turn(sub stream.Subscription, run client.WorkflowRun) turn {
	return turn{sub: sub, run: run, timeout: p.cfg.PredictionTimeout, heartbeat: p.cfg.HeartbeatInterval}
}

// chatflowTurn is the wait for a chatflow run, answered from its saved answer. A run the request
// started is watched only after endWatchDelay; one a resend attached to may have published its
// saved answer already (or had it expire), so it is watched at once.
func (p *predictions) chatflowTurn(s startedRun) turn {
	t := p.turn(s.sub, s.run)
	if s.attached == nil {
		t.watchEndAfter = endWatchDelay
	}
	return t
}

// outcome is how a run ended.
type outcome[R any] struct {
	res R
	err error
}

// await follows a turn until a has answered: a gets the run's events as they arrive, the
// saved answer as soon as its result event arrives (sooner than the workflow's own completion,
// and not subject to a missed long-poll wake-up), otherwise the run's end, watched from
// t.watchEndAfter on, and, whenever the events pause for the heartbeat interval, a chance to
// keep the stream alive. The client leaving ends the wait, never the run: its messages are
// saved all the same.
func await[R any](c *gin.Context, t turn, a answerer[R]) {
	// The request's own context, not the pooled gin.Context: the goroutine below may outlive
	// the handler by a moment.
	client := c.Request.Context()
	ctx, cancel := context.WithTimeout(client, t.timeout)
	defer cancel()
	done := make(chan outcome[R], 1)
	watching := false
	startWatch := func() {
		if watching {
			return
		}
		watching = true
		go func() {
			var o outcome[R]
			o.err = t.run.Get(ctx, &o.res)
			done <- o
		}()
	}
	// watchTimer starts the watch after the delay, by t.timeout at the latest so that the
	// timeout still ends the wait; nil when there is no delay, or once it has fired.
	var watchTimer <-chan time.Time
	if t.watchEndAfter > 0 {
		timer := time.NewTimer(min(t.watchEndAfter, t.timeout))
		defer timer.Stop()
		watchTimer = timer.C
	} else {
		startWatch()
	}

	// pass hands a the events and returns the saved answer among them, if any; ok is false
	// when the client is gone.
	pass := func(events []stream.Event) (saved *workflows.PredictionResult, ok bool) {
		for _, ev := range events {
			if res, isResult := resultOf(ev); isResult {
				saved = &res
			} else if ev.Name != node.RunEvent && a.event(ev) != nil {
				return nil, false
			}
		}
		return saved, true
	}
	// over passes events on and reports whether the wait is over: the client has been
	// answered from the saved answer, or is gone. A saved answer that is not the client's
	// leaves the answer to the run's end, which the wait then watches.
	over := func(events []stream.Event) bool {
		saved, ok := pass(events)
		if !ok {
			return true
		}
		if saved == nil {
			return false
		}
		if a.saved(ctx, *saved) {
			return true
		}
		startWatch()
		return false
	}

	if over(t.replay) {
		return
	}
	idle := time.NewTimer(t.heartbeat)
	defer idle.Stop()
	for {
		select {
		case <-t.sub.Ready():
			if over(t.sub.Drain()) {
				return
			}
			idle.Reset(t.heartbeat) // heartbeats only on idle streams
		case o := <-done:
			if client.Err() != nil { // the wait ended because the client left
				clientLeft(c)
				return
			}
			// Every event was published before the run ended, so draining now passes the
			// rest on before the end. The run's own result is the answer now.
			if _, ok := pass(t.sub.Drain()); ok {
				a.ended(o.res, o.err)
			}
			return
		case <-watchTimer:
			watchTimer = nil
			startWatch()
		case <-idle.C:
			if a.idle() != nil {
				return
			}
			idle.Reset(t.heartbeat)
		case <-client.Done():
			clientLeft(c)
			return
		}
	}
}

// clientLeft records, for the request log, that the client left before it had its answer. A
// stream that had begun keeps its 200.
func clientLeft(c *gin.Context) {
	if !c.Writer.Written() {
		c.Status(statusClientClosed)
	}
}

// resultOf reads the answer the save activity publishes the moment the turn is stored.
func resultOf(ev stream.Event) (workflows.PredictionResult, bool) {
	var res workflows.PredictionResult
	if ev.Name != node.ResultEvent || json.Unmarshal(ev.Data, &res) != nil {
		return res, false
	}
	return res, true
}
