// Package workflows holds the deterministic flow interpreter: a prediction is one workflow that
// runs each node of an immutable flow plan as one activity, named after the node kind.
//
// Nothing here does I/O, reads a clock other than workflow.Now, starts goroutines or depends on
// map order; the package imports no database, HTTP server or provider SDK.
package workflows

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// PredictionInput is the immutable snapshot a run works from: the compiled flow (with the
// caller's overrides already applied) and the request.
type PredictionInput struct {
	Plan      chatflow.Plan `json:"plan"`
	Run       node.Run      `json:"run"`
	ChatType  string        `json:"chatType,omitempty"`
	LeadEmail string        `json:"leadEmail,omitempty"`
	// FileUploads is the user message's fileUploads record (JSON), when the turn had files.
	FileUploads string `json:"fileUploads,omitempty"`
	// Depth counts the flows that run this one (flow tools, Execute Flow nodes); 0 for a
	// prediction's own run.
	Depth int `json:"depth,omitempty"`
	// Version is the version of this workflow the run was started for (node.PredictionVersion);
	// 0 for runs whose starter did not say, which choose by a version marker.
	Version int `json:"version,omitempty"`
}

// PredictionResult is what the API turns into Flowise's JSON answer.
type PredictionResult = node.Result

// Prediction runs a CHATFLOW: every node in plan order, then saves the turn's two messages in
// one activity so a failed run leaves no half-written conversation.
func Prediction(ctx workflow.Context, in PredictionInput) (PredictionResult, error) {
	userAt := workflow.Now(ctx)
	version := workflow.Version(in.Version)
	if version > node.PredictionVersion {
		// Started by a newer API than this worker: fail the task, so that it is retried
		// until a worker that knows the version takes it.
		panic(fmt.Sprintf("prediction version %d is newer than this worker's %d: deploy workers before API processes", version, node.PredictionVersion))
	}
	if version == 0 {
		// Runs started before quick nodes became local activities replay with regular ones, and
		// those of the first local version with message ids drawn by a SideEffect.
		version = workflow.GetVersion(ctx, node.LocalQuickNodesChange, workflow.DefaultVersion, 2)
	}
	c := &chatRun{plan: in.Plan, run: in.Run, depth: in.Depth, nodes: placementOf(version), runID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	ending, agent, err := c.runSteps(ctx, false)
	if err != nil {
		return PredictionResult{}, err
	}

	results := c.results
	answer := results[ending]
	if answer.Text == nil {
		return PredictionResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("ending node %s produced no answer", ending), node.ErrFlow, nil)
	}
	// A flow without memory still records its turns under the run's session (its chatId
	// unless the caller named one), as Flowise does.
	res := PredictionResult{Text: *answer.Text, SessionID: in.Run.SessionID, JSON: answer.JSON,
		FlowVariables: flowVariables(in.Plan, results), UsedTools: agent.used}
	if sources := sourceDocuments(answer, agent); sources != nil {
		if res.SourceDocuments, err = json.Marshal(sources); err != nil {
			return PredictionResult{}, fmt.Errorf("encode source documents: %w", err)
		}
	}
	if mem := memoryOf(in.Plan, results); mem != nil {
		res.SessionID, res.MemoryType = cmp.Or(mem.SessionID, in.Run.SessionID), mem.Label
	}

	ids, err := messageIDs(ctx, version >= 2)
	if err != nil {
		return PredictionResult{}, err
	}
	save := node.SaveMessagesRequest{
		ChatflowID:      in.Run.ChatflowID,
		ChatID:          in.Run.ChatID,
		SessionID:       res.SessionID,
		MemoryType:      res.MemoryType,
		UserMessageID:   ids[0],
		APIMessageID:    ids[1],
		Question:        in.Run.Question,
		Answer:          res.Text,
		UserAt:          userAt.UnixMilli(),
		APIAt:           max(workflow.Now(ctx).UnixMilli(), userAt.UnixMilli()+1),
		ChatType:        in.ChatType,
		LeadEmail:       in.LeadEmail,
		FileUploads:     in.FileUploads,
		JSON:            res.JSON,
		FlowVariables:   res.FlowVariables,
		Topic:           in.Run.Topic,
		UsedTools:       res.UsedTools,
		SourceDocuments: res.SourceDocuments,
	}
	// The save is the commit point: once it is scheduled it runs to the end even if the run is
	// aborted meanwhile, so a caller told "aborted" never finds the turn half saved.
	if ctx.Err() != nil { // aborted after the last node: nothing is saved
		return PredictionResult{}, temporal.NewCanceledError()
	}
	saveCtx, cancelSave := workflow.NewDisconnectedContext(ctx)
	defer cancelSave()
	if err := quickActivity(saveCtx, node.SaveMessagesActivity, save, c.nodes != allRegular).Get(saveCtx, nil); err != nil {
		// The cause (a database error) stays in history for operators, not in the answer.
		return PredictionResult{}, temporal.NewNonRetryableApplicationError(
			"The answer could not be saved; try again", node.ErrSaveFailed, err)
	}
	res.ChatMessageID = ids[1]
	return res, nil
}

// flowVariables are the values of the setVariable nodes that ran with showOutput, which the
// answer lists as Flowise's does.
func flowVariables(plan chatflow.Plan, results map[string]node.Value) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for _, s := range plan.Steps {
		if v := results[s.Node.ID].FlowVar; v != nil && v.Show {
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			out[v.Name] = v.Value
		}
	}
	return out
}

// runSteps runs the plan's nodes in order, one activity each (an agent one per model turn
// and tool call), keeps their results in c.results, and returns the ending node that answered
// and, when an agent answered, what it reports besides its text. With upsert, the ending node
// (a vector store) adds the documents wired into it.
func (c *chatRun) runSteps(ctx workflow.Context, upsert bool) (string, agentAnswer, error) {
	c.results = make(map[string]node.Value, len(c.plan.Steps))
	// decisions are the branches ifElseFunction nodes took: the nodes of the others do not
	// run (plans without such nodes have no step to skip).
	decisions := map[string]string{}
	ending := c.plan.Ending
	var agent agentAnswer
	for _, step := range c.plan.Steps {
		if step.Skipped(decisions) {
			continue
		}
		isEnding := c.plan.IsEnding(step.Node.ID)
		if isEnding {
			// Of several (one per branch), the last that runs answers, with its own extras.
			ending, agent = step.Node.ID, agentAnswer{}
		}
		req := node.Request{Node: step.Node, Run: c.run, Ending: isEnding, Upsert: upsert && isEnding,
			Upstream: node.Upstream(step.Needs, c.results)}
		kind := step.Node.Data.Name
		var fut workflow.Future
		switch {
		case node.Is(kind, node.Tool, node.FlowTool):
			// A tool node runs nothing now: the agent it is wired into offers it, and each
			// call of it is an activity of its own.
			c.results[step.Node.ID] = toolNodeValue(step.Node, req.Upstream)
			continue
		case step.Deferred:
			// A chain wired into a chain tool runs when the agent calls the tool.
			c.results[step.Node.ID] = node.Value{Kind: kind, Deferred: &node.Request{Node: step.Node, Upstream: req.Upstream}}
			continue
		case node.IsAgent(kind):
			answer, err := c.runAgent(ctx, step, req)
			if err != nil {
				return "", agentAnswer{}, nodeFailed(step, err)
			}
			if isEnding {
				agent = answer
			}
			c.results[step.Node.ID] = node.TextValue(kind, answer.text)
			continue
		case req.Upsert:
			// Embedding a large upload takes minutes, as a document store upsert does.
			fut = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, upsertOptions), node.ActivityName(kind), req)
		default:
			fut = runNode(ctx, step.Node, req, c.nodes)
		}
		var out node.Value
		if err := fut.Get(ctx, &out); err != nil {
			if aborted(err) {
				return "", agentAnswer{}, awaitCancellation(ctx)
			}
			return "", agentAnswer{}, nodeFailed(step, err)
		}
		c.results[step.Node.ID] = out
		if out.Branch != "" {
			decisions[step.Node.ID] = out.Branch
		}
	}
	return ending, agent, nil
}

// sourceDocuments are the documents the answer reports: an agent's tools', or a retrieval
// chain's.
func sourceDocuments(answer node.Value, agent agentAnswer) any {
	if len(agent.sources) > 0 {
		return agent.sources
	}
	if len(answer.SourceDocuments) > 0 {
		return answer.SourceDocuments
	}
	return nil
}

// memoryOf returns the memory the plan's memory node loaded, if there is one.
func memoryOf(plan chatflow.Plan, results map[string]node.Value) *node.Memory {
	if n, ok := plan.MemoryNode(); ok {
		return results[n.ID].Memory
	}
	return nil
}

// aborted reports whether a local call was stopped by its run's abort (nodekit.KeepAlive).
func aborted(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == node.ErrAborted
}

// abortGrace bounds the wait of awaitCancellation; the API records the cancellation before it
// sends the abort, so it comes within moments.
const abortGrace = time.Minute

// awaitCancellation ends a run whose local call its abort stopped, canceled. The abort was
// recorded in Temporal before it reached the call, but the server holds the cancellation back
// until this workflow task completes, and refuses a completion that closes the run while it
// holds an event (the task would fail and run again). So the run waits for it: this task
// completes with a timer only, the next brings the cancellation, and the run ends canceled.
func awaitCancellation(ctx workflow.Context) error {
	_, _ = workflow.AwaitWithTimeout(ctx, abortGrace, func() bool { return false })
	return temporal.NewCanceledError()
}

// nodeFailed names the failing node and keeps the cause's own message, so the caller reads
// "llmChain_0 (llmChain): provider answered 500" rather than a chain of SDK wrappers.
func nodeFailed(step fmt.Stringer, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	msg, typ := err.Error(), node.ErrNodeFailed
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

// messageIDs are the ids of the turn's two messages, the same on every attempt of the save.
// Runs from before local activities drew them with a SideEffect, recorded when the save was
// scheduled. A local save is recorded only after it has run, together with anything drawn in
// the same workflow task, so a crash in between would draw new ids and save the turn twice:
// these runs derive the ids from the run id instead.
func messageIDs(ctx workflow.Context, fromRunID bool) ([2]string, error) {
	if fromRunID {
		run := workflow.GetInfo(ctx).WorkflowExecution.RunID
		return [2]string{node.DerivedID(run, node.UserMessage), node.DerivedID(run, node.APIMessage)}, nil
	}
	var ids [2]string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any {
		return [2]string{uuid.NewString(), uuid.NewString()}
	}).Get(&ids); err != nil {
		return ids, fmt.Errorf("draw message ids: %w", err)
	}
	return ids, nil
}

// placement says where a chatflow run's nodes run, by the version it was started for.
type placement int

const (
	// allRegular: every node a regular activity (runs from before local activities).
	allRegular placement = iota
	// quickLocal: quick nodes (those that only configure, render or read memory) run as
	// local activities inside the workflow task, model calls and other calls out as regular
	// activities, each with a workflow task of its own after it (versions 1 and 2).
	quickLocal
	// allLocal: every node runs locally, so a prediction is one workflow task: its start
	// hands the task to the worker (eager start) and the task's completion records every
	// node's result and the run's end at once (node.PredictionVersion). A worker crash loses
	// the task, which Temporal gives another worker after PredictionTaskTimeout; the nodes
	// run again there (those that only read are idempotent, the save derives its ids from
	// the run, and a model call in flight is lost either way). An abort reaches a call
	// through the broker (nodekit.KeepAlive), Temporal's cancellation only when the task ends.
	// Agents keep one regular activity per model turn and tool call: a loop of many calls
	// records each as it ends.
	allLocal
)

// placementOf is the placement of a run started for version.
func placementOf(version workflow.Version) placement {
	switch {
	case version >= node.PredictionVersion:
		return allLocal
	case version >= 1:
		return quickLocal
	}
	return allRegular
}

// runNode schedules one node where p says. A regular call is slow, costly and worth retrying
// on another worker, with heartbeats that let an abort reach it; a local node runs inside the
// workflow task: no round trip through the server, at the price that a worker crash re-runs
// it with the rest of the task.
func runNode(ctx workflow.Context, n chatflow.Node, req node.Request, p placement) workflow.Future {
	name := node.ActivityName(n.Data.Name)
	switch {
	case node.CallsOut(n.Data.Name) && p == allLocal:
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, callLocalOptions), name, req)
	case node.CallsOut(n.Data.Name):
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, modelCallOptions), name, req)
	}
	return quickActivity(ctx, name, req, p != allRegular)
}

// quickActivity runs a short, idempotent activity locally when local is set.
func quickActivity(ctx workflow.Context, name string, arg any, local bool) workflow.Future {
	if local {
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, quickLocalOptions), name, arg)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, quickOptions), name, arg)
}

// HeartbeatTimeout is how long a running activity that calls out may stay silent before
// Temporal deems its worker dead and retries it elsewhere. Activities heartbeat every second
// (nodekit), and the worker sends them at most that far apart (MaxHeartbeatThrottleInterval),
// so a live attempt misses it only after three lost heartbeats.
const HeartbeatTimeout = 4 * time.Second

// Activity policies. Retries belong to Temporal (provider SDKs run with theirs off); errors
// that another attempt cannot fix are non-retryable.
var (
	nonRetryable = []string{node.ErrFlow, node.ErrCredential, node.ErrProvider}

	// Model calls are slow and worth retrying, possibly on another worker. The heartbeat lets
	// an abort reach a running call and lets a dead worker's attempt be retried quickly: a
	// live attempt heartbeats every second however long its call takes, so one silent for
	// HeartbeatTimeout is dead, and the retry starts at once. An attempt is bounded well
	// inside the run's deadline so that a provider that hangs leaves time for a retry.
	modelCallOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:       HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
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
	quickLocalOptions = localOptions(quickOptions)
	// A call run locally (allLocal) keeps a model call's bounds and retries. While it runs,
	// the SDK extends the workflow task before PredictionTaskTimeout, however long the call.
	callLocalOptions = localOptions(modelCallOptions)
)

// localOptions are the bounds and retries of o for the same work run as a local activity.
func localOptions(o workflow.ActivityOptions) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    o.StartToCloseTimeout,
		ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy:            o.RetryPolicy,
	}
}

// PredictionTaskTimeout is the workflow task timeout of chatflow predictions: how long a task
// may go unanswered before Temporal gives it to another worker. A prediction's calls run
// inside its task (allLocal), so this is how soon a dead worker's prediction resumes
// elsewhere, as HeartbeatTimeout is for a regular call; the SDK answers a task whose calls are
// still running at 80% of it (4.8 s), asking for the next. A task that misses it runs again
// whole, so it leaves room for a value read back from storage inside the task (the payload
// codec's 3 s bound) and for a worker short of CPU, where the default 10 s would leave a
// crashed worker's users waiting twice as long.
const PredictionTaskTimeout = 6 * time.Second
