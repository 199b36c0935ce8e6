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
}

// PredictionResult is what the API turns into Flowise's JSON answer.
type PredictionResult = node.Result

// Prediction runs a CHATFLOW: every node in plan order, then saves the turn's two messages in
// one activity so a failed run leaves no half-written conversation.
func Prediction(ctx workflow.Context, in PredictionInput) (PredictionResult, error) {
	userAt := workflow.Now(ctx)
	// Runs started before quick nodes became local activities replay with regular ones, and
	// those of the first local version with message ids drawn by a SideEffect.
	version := workflow.GetVersion(ctx, node.LocalQuickNodesChange, workflow.DefaultVersion, 2)
	local := version >= 1
	c := &chatRun{plan: in.Plan, run: in.Run, depth: in.Depth, local: local, runID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
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
	if err := quickActivity(saveCtx, node.SaveMessagesActivity, save, local).Get(saveCtx, nil); err != nil {
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
		req := node.Request{Node: step.Node, Run: c.run, Ending: isEnding, Upsert: upsert && isEnding}
		if len(step.Needs) > 0 {
			req.Upstream = make(map[string]node.Value, len(step.Needs))
			for _, id := range step.Needs {
				req.Upstream[id] = c.results[id]
			}
		}
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
			fut = runNode(ctx, step.Node, req, c.local)
		}
		var out node.Value
		if err := fut.Get(ctx, &out); err != nil {
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

// runNode schedules one node. Model calls are regular activities: slow, costly and worth
// retrying on another worker, with heartbeats that let an abort reach them. Every other node
// only configures, renders or reads memory, so with local it runs as a local activity inside
// the workflow task: no round trip through the server, at the price that a worker crash
// re-runs it (it is idempotent) with the rest of the task.
func runNode(ctx workflow.Context, n chatflow.Node, req node.Request, local bool) workflow.Future {
	name := node.ActivityName(n.Data.Name)
	if node.CallsOut(n.Data.Name) {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, modelCallOptions), name, req)
	}
	return quickActivity(ctx, name, req, local)
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
	quickLocalOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout:    quickOptions.StartToCloseTimeout,
		ScheduleToCloseTimeout: quickOptions.ScheduleToCloseTimeout,
		RetryPolicy:            quickOptions.RetryPolicy,
	}
)
