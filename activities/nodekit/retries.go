package nodekit

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"google.golang.org/grpc"
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
		if willRetry(ctx, info, err) {
			if info.IsLocalActivity {
				// No heartbeat carries it to the next attempt, which runs in this worker.
				log.Warn("node failed; retrying", "workflowId", info.WorkflowExecution.ID, "runId", info.WorkflowExecution.RunID,
					"activity", info.ActivityType.Name, "attempt", info.Attempt, "error", err)
			} else {
				// The failure's last heartbeat reaches the next attempt: say why this one ended.
				activity.RecordHeartbeat(ctx, beat{Worker: workerName, Failed: err.Error()})
			}
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

// ReportTaskRetries is a gRPC client interceptor for a worker's Temporal client: it logs, at
// WARN, every workflow task this worker is handed after its first attempt, with the run and
// why the attempt before ended (read from the history page handed with the task). A chatflow
// prediction runs its nodes inside its one workflow task, as local activities, so a worker
// that dies mid-call shows in no activity's attempts: its task times out and another worker
// takes it, running the task's nodes again. This is where that becomes visible.
func ReportTaskRetries(log *slog.Logger) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if task, ok := reply.(*workflowservice.PollWorkflowTaskQueueResponse); ok && err == nil && task.GetAttempt() > 1 {
			log.Warn("workflow task retried",
				"workflowId", task.GetWorkflowExecution().GetWorkflowId(), "runId", task.GetWorkflowExecution().GetRunId(),
				"workflowType", task.GetWorkflowType().GetName(), "attempt", task.GetAttempt(), "cause", previousTask(task.GetHistory()))
		}
		return err
	}
}

// previousTask says why the workflow task before this one ended, from the history handed
// with it.
func previousTask(h *historypb.History) string {
	events := h.GetEvents()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].GetWorkflowTaskTimedOutEventAttributes() != nil {
			return "the previous attempt timed out: its worker died or stalled"
		}
		if f := events[i].GetWorkflowTaskFailedEventAttributes(); f != nil {
			return fmt.Sprintf("the previous attempt failed (%s): %s", f.GetCause(), f.GetFailure().GetMessage())
		}
	}
	return "the previous attempt was lost"
}
