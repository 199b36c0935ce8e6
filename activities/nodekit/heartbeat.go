package nodekit

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// HeartbeatInterval is how often a running activity that calls out tells Temporal it is alive;
// workflows.HeartbeatTimeout is four of them: three may be lost.
const HeartbeatInterval = time.Second

// heartbeat keeps a long call visibly alive, so an abort (workflow cancellation) reaches it and
// a crashed worker's attempt is retried after the heartbeat timeout rather than the whole
// start-to-close timeout. Outside an activity (a test) it does nothing; in a local activity the
// SDK drops the heartbeats, which only a regular activity has a timeout for.
func heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, beat{Worker: workerName})
			}
		}
	}()
	return func() { close(done) }
}

// KeepAlive heartbeats while fn runs. Activities that call out run under a heartbeat timeout,
// so that a dead worker's attempt is retried quickly; without heartbeats, an HTTP call or a
// tool slower than that timeout would be cut off and run again.
func KeepAlive[Req, Res any](fn func(context.Context, Req) (Res, error)) func(context.Context, Req) (Res, error) {
	return func(ctx context.Context, req Req) (Res, error) {
		stop := heartbeat(ctx)
		defer stop()
		return fn(ctx, req)
	}
}
