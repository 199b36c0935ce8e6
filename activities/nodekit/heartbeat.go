package nodekit

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/workflows/node"
)

// HeartbeatInterval is how often a running activity that calls out tells Temporal it is alive;
// workflows.HeartbeatTimeout is four of them: three may be lost.
const HeartbeatInterval = time.Second

// errAborted is the cause of a local call's context when its run was aborted.
var errAborted = errors.New("the prediction was aborted")

// KeepAlive keeps a call that calls out reachable while fn runs:
//   - as a regular activity it heartbeats, so that an abort (the run's cancellation) reaches
//     it and a dead worker's attempt is retried after the heartbeat timeout rather than its
//     whole start-to-close timeout; without heartbeats, an HTTP call or a tool slower than
//     that timeout would be cut off and run again;
//   - as a local activity (a chatflow's calls, inside its one workflow task) it has no
//     heartbeat, and the run's cancellation reaches it only when the task ends, so it watches
//     aborts (nil: none) for its run, and an abort ends it at once with an Aborted error.
//
// Outside an activity (a test) it only runs fn.
func KeepAlive[Req, Res any](aborts stream.AbortWatcher, fn func(context.Context, Req) (Res, error)) func(context.Context, Req) (Res, error) {
	return func(ctx context.Context, req Req) (Res, error) {
		if !activity.IsActivity(ctx) {
			return fn(ctx, req)
		}
		info := activity.GetInfo(ctx)
		if !info.IsLocalActivity {
			stop := heartbeat(ctx)
			defer stop()
			return fn(ctx, req)
		}
		if aborts == nil {
			return fn(ctx, req)
		}
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		ch, stopWatch := aborts.WatchAbort(info.WorkflowExecution.RunID)
		defer stopWatch()
		go func() { // ends with the call (cancel below)
			select {
			case <-ch:
				cancel(errAborted)
			case <-ctx.Done():
			}
		}()
		res, err := fn(ctx, req)
		if err != nil && errors.Is(context.Cause(ctx), errAborted) {
			return res, temporal.NewNonRetryableApplicationError(errAborted.Error(), node.ErrAborted, nil)
		}
		return res, err
	}
}

// heartbeat records a heartbeat every HeartbeatInterval until stopped or ctx ends.
func heartbeat(ctx context.Context) (stop func()) {
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
