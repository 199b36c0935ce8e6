// Package workflows holds the deterministic flow interpreter: a prediction is one workflow that
// runs each node of an immutable flow plan as one activity, named after the node kind.
//
// Nothing here does I/O, reads a clock other than workflow.Now, starts goroutines or depends on
// map order; the package imports no database, HTTP server or provider SDK.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/flow"
	"github.com/flowgate/flowgate/node"
)

// PredictionWorkflow is the registered workflow type name.
const PredictionWorkflow = "prediction"

// PredictionInput is the immutable snapshot a run works from: the compiled flow (with the
// caller's overrides already applied) and the request.
type PredictionInput struct {
	Plan      flow.Plan `json:"plan"`
	Run       node.Run  `json:"run"`
	ChatType  string    `json:"chatType,omitempty"`
	LeadEmail string    `json:"leadEmail,omitempty"`
}

// PredictionResult is what the API turns into Flowise's JSON answer.
type PredictionResult = node.Result

// Prediction runs a CHATFLOW: every node in plan order, then saves the turn's two messages in
// one activity so a failed run leaves no half-written conversation.
func Prediction(ctx workflow.Context, in PredictionInput) (PredictionResult, error) {
	userAt := workflow.Now(ctx)
	results := make(map[string]node.Value, len(in.Plan.Steps))
	for _, step := range in.Plan.Steps {
		req := node.Request{Node: step.Node, Run: in.Run, Ending: step.Node.ID == in.Plan.Ending}
		if len(step.Needs) > 0 {
			req.Upstream = make(map[string]node.Value, len(step.Needs))
			for _, id := range step.Needs {
				req.Upstream[id] = results[id]
			}
		}
		actx := workflow.WithActivityOptions(ctx, activityOptions(step.Node))
		var out node.Value
		if err := workflow.ExecuteActivity(actx, node.ActivityName(step.Node.Data.Name), req).Get(ctx, &out); err != nil {
			return PredictionResult{}, nodeFailed(step, err)
		}
		results[step.Node.ID] = out
	}

	answer := results[in.Plan.Ending]
	if answer.Text == nil {
		return PredictionResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("ending node %s produced no answer", in.Plan.Ending), node.ErrFlow, nil)
	}
	res := PredictionResult{Text: *answer.Text}
	if mem := memoryOf(in.Plan, results); mem != nil {
		res.SessionID, res.MemoryType = mem.SessionID, mem.Label
	}

	// Message ids are drawn once and recorded in history, so a retried save writes the same rows.
	var ids [2]string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any {
		return [2]string{uuid.NewString(), uuid.NewString()}
	}).Get(&ids); err != nil {
		return PredictionResult{}, fmt.Errorf("draw message ids: %w", err)
	}
	save := node.SaveMessagesRequest{
		ChatflowID:    in.Run.ChatflowID,
		ChatID:        in.Run.ChatID,
		SessionID:     res.SessionID,
		MemoryType:    res.MemoryType,
		UserMessageID: ids[0],
		APIMessageID:  ids[1],
		Question:      in.Run.Question,
		Answer:        res.Text,
		UserAt:        userAt.UnixMilli(),
		APIAt:         max(workflow.Now(ctx).UnixMilli(), userAt.UnixMilli()+1),
		ChatType:      in.ChatType,
		LeadEmail:     in.LeadEmail,
		Topic:         in.Run.Topic,
	}
	// The save is the commit point: once it is scheduled it runs to the end even if the run is
	// aborted meanwhile, so a caller told "aborted" never finds the turn half saved.
	if ctx.Err() != nil { // aborted after the last node: nothing is saved
		return PredictionResult{}, temporal.NewCanceledError()
	}
	saveCtx, cancelSave := workflow.NewDisconnectedContext(ctx)
	defer cancelSave()
	sctx := workflow.WithActivityOptions(saveCtx, storeOptions)
	if err := workflow.ExecuteActivity(sctx, node.SaveMessagesActivity, save).Get(sctx, nil); err != nil {
		// The cause (a database error) stays in history for operators, not in the answer.
		return PredictionResult{}, temporal.NewNonRetryableApplicationError(
			"The answer could not be saved; try again", "SaveFailed", err)
	}
	res.ChatMessageID = ids[1]
	return res, nil
}

// memoryOf returns the memory the plan's memory node loaded, if there is one.
func memoryOf(plan flow.Plan, results map[string]node.Value) *node.Memory {
	if n, ok := plan.MemoryNode(); ok {
		return results[n.ID].Memory
	}
	return nil
}

// nodeFailed names the failing node and keeps the cause's own message, so the caller reads
// "llmChain_0 (llmChain): provider answered 500" rather than a chain of SDK wrappers.
func nodeFailed(step flow.Step, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	msg, typ := err.Error(), "NodeFailed"
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg, typ = app.Message(), app.Type()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		msg = fmt.Sprintf("timed out (%s)", timeout.TimeoutType())
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s", step, msg), typ, err)
}

// Activity policies. Retries belong to Temporal (provider SDKs run with theirs off); errors
// that another attempt cannot fix are non-retryable.
var (
	nonRetryable = []string{node.ErrFlow, node.ErrCredential, node.ErrProvider}

	// Model calls are slow and worth retrying, possibly on another worker. The heartbeat lets
	// an abort reach a running call and lets a dead worker's attempt be retried quickly.
	// An attempt is bounded well inside the run's deadline so that a provider that hangs
	// leaves time for a retry.
	modelCallOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:       20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: nonRetryable,
		},
	}
	// Configuration, memory and store steps are quick, so each attempt is short; they retry
	// until ScheduleToClose rather than a count of attempts, so a database that is away for
	// a minute delays the run instead of failing it.
	quickOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			NonRetryableErrorTypes: nonRetryable,
		},
	}
	storeOptions = quickOptions
)

// activityOptions picks the policy by node kind (not by the category the flow file claims):
// model calls get long, heartbeated attempts; the rest configure and fail fast.
func activityOptions(n flow.Node) workflow.ActivityOptions {
	if node.CallsModel(n.Data.Name) {
		return modelCallOptions
	}
	return quickOptions
}
