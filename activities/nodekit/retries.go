package nodekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// workerName names this process in heartbeats, as Temporal names workers: pid@host.
var workerName = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%d@%s", os.Getpid(), host)
}()

// beat is what an attempt records with its heartbeats: where it runs and, when it failed, why.
// Temporal hands the last one to the next attempt, which tells from it why it runs.
type beat struct {
	Worker string `json:"worker"`
	Failed string `json:"failed,omitempty"`
}

// ReportRetries logs, at WARN, every attempt of an activity after its first, with the run, the
// activity (node.<kind>: the node) and why the previous attempt ended: it failed (its error),
// or its worker stopped heartbeating (a crash; the retry came after the heartbeat timeout).
// Otherwise a crashed worker is visible only in Temporal's history.
func ReportRetries[Req, Res any](log *slog.Logger, fn func(context.Context, Req) (Res, error)) func(context.Context, Req) (Res, error) {
	return func(ctx context.Context, req Req) (Res, error) {
		if !activity.IsActivity(ctx) || log == nil {
			return fn(ctx, req)
		}
		info := activity.GetInfo(ctx)
		if info.Attempt > 1 {
			log.Warn("node retried", "workflowId", info.WorkflowExecution.ID, "runId", info.WorkflowExecution.RunID,
				"activity", info.ActivityType.Name, "attempt", info.Attempt, "cause", previousAttempt(ctx, info))
		}
		res, err := fn(ctx, req)
		var app *temporal.ApplicationError
		if err != nil && !info.IsLocalActivity && !(errors.As(err, &app) && app.NonRetryable()) && ctx.Err() == nil {
			// The failure's last heartbeat reaches the next attempt: say why this one ended.
			activity.RecordHeartbeat(ctx, beat{Worker: workerName, Failed: err.Error()})
		}
		return res, err
	}
}

// previousAttempt says why the attempt before this one ended.
func previousAttempt(ctx context.Context, info activity.Info) string {
	if info.IsLocalActivity {
		return "the previous attempt failed"
	}
	var last beat
	if !activity.HasHeartbeatDetails(ctx) || activity.GetHeartbeatDetails(ctx, &last) != nil {
		return "the previous attempt ended without a heartbeat: its worker died, or it timed out"
	}
	if last.Failed != "" {
		return "the previous attempt failed: " + last.Failed
	}
	return fmt.Sprintf("the previous attempt's worker %s stopped heartbeating: it died or lost its connection", last.Worker)
}
