package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// Async runs (a Flowgate extension, docs/extensions.md): a prediction sent with
// "Prefer: respond-async" (RFC 7240) is answered 202 as soon as its run has started, with the
// run's id; GET /api/v1/runs/{runId} then tells how the run stands and, once it has ended,
// holds the answer the prediction would have returned, and GET /api/v1/runs/{runId}/stream
// follows it in Flowise's SSE framing, however late the reader comes.
//
// A run id names the chatflow, the chat and the Temporal run: every read of it is authorized
// against that chatflow exactly as its predictions are (its bound key), and the Temporal run id,
// random, keeps one run's id from being derived from another's.

// Run states as GET /api/v1/runs/{runId} reports them.
const (
	runRunning   = "RUNNING"
	runCompleted = "COMPLETED"
	runFailed    = "FAILED"
	runCanceled  = "CANCELED"
)

// prefersAsync reports whether the request asks to be answered before its run ends:
// a Prefer header (RFC 7240) with the respond-async preference.
func prefersAsync(c *gin.Context) bool {
	for _, header := range c.Request.Header.Values("Prefer") {
		for pref := range strings.SplitSeq(header, ",") {
			name, _, _ := strings.Cut(pref, ";")
			name, _, _ = strings.Cut(name, "=")
			if strings.EqualFold(strings.TrimSpace(name), "respond-async") {
				return true
			}
		}
	}
	return false
}

// runRef is what a run id names.
type runRef struct{ chatflowID, chatID, runID string }

func (r runRef) workflowID() string { return node.WorkflowID(r.chatflowID, r.chatID) }

// encode is the run id clients see: opaque, URL-safe, and decoded without a lookup.
func (r runRef) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(r.chatflowID + "\n" + r.chatID + "\n" + r.runID))
}

// decodeRunRef reads a run id; false for anything encode did not make. Chat ids hold no
// control characters (predictionBody.problem), so a newline separates the parts.
func decodeRunRef(id string) (runRef, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return runRef{}, false
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !printable(parts[0]) || !printable(parts[1]) {
		return runRef{}, false
	}
	if _, err := uuid.Parse(parts[2]); err != nil {
		return runRef{}, false
	}
	return runRef{chatflowID: parts[0], chatID: parts[1], runID: parts[2]}, true
}

// accepted answers a started run 202, with where to follow it, and how it stands: running, or,
// for a resend attached to a run that has ended, that run's state.
func (p *predictions) accepted(c *gin.Context, t chatTurn) {
	ref := runRef{chatflowID: t.in.Run.ChatflowID, chatID: t.in.Run.ChatID, runID: t.run.GetRunID()}
	status := runRunning
	if t.attached != nil {
		status = runStatus(t.attached.status)
	}
	c.Header("Location", apiPrefix+"/runs/"+ref.encode())
	c.Header("Preference-Applied", "respond-async")
	c.JSON(http.StatusAccepted, gin.H{"runId": ref.encode(), "chatId": t.in.Run.ChatID, "sessionId": t.in.Run.SessionID, "status": status})
}

// asyncRun is a chatflow run a client asked about.
type asyncRun struct {
	runRef
	status string
	topic  string // of its events
}

// findRun reads the run the runId parameter names, for a caller the run's chatflow lets in;
// on failure it has answered (404 for anything that is not a chatflow prediction's run).
func (p *predictions) findRun(c *gin.Context) (asyncRun, bool) {
	id := c.Param("runId")
	notFound := func() (asyncRun, bool) {
		fail(c, http.StatusNotFound, "Run %s not found", id)
		return asyncRun{}, false
	}
	ref, ok := decodeRunRef(id)
	if !ok {
		return notFound()
	}
	f, err := p.store.GetChatFlow(c, ref.chatflowID)
	if errors.Is(err, models.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		failErrOf(c, p.log, "Chatflow", ref.chatflowID, err)
		return asyncRun{}, false
	}
	if !allowOrigin(c, f, false) || !p.auth.authorizeFlow(c, f) {
		return asyncRun{}, false
	}
	ctx, cancel := context.WithTimeout(c, startTimeout)
	defer cancel()
	desc, err := p.temporal.DescribeWorkflowExecution(ctx, ref.workflowID(), ref.runID)
	// InvalidArgument is Temporal refusing the ids themselves (a workflow id too long for it):
	// no run can have them, so the run is not found, as for any other id it never made.
	if errors.As(err, new(*serviceerror.NotFound)) || errors.As(err, new(*serviceerror.InvalidArgument)) {
		return notFound()
	}
	if err != nil {
		p.unavailable(c, "describe run", err)
		return asyncRun{}, false
	}
	info := desc.GetWorkflowExecutionInfo()
	memo := info.GetMemo().GetFields()
	// The run must be the one the id names, not one whose workflow id merely reads the same
	// (a chatflow or chat id holding the separator).
	if info.GetType().GetName() != node.PredictionWorkflow ||
		memoText(memo[node.MemoChatflowID]) != ref.chatflowID || memoText(memo[node.MemoChatID]) != ref.chatID {
		return notFound()
	}
	return asyncRun{runRef: ref, status: runStatus(info.GetStatus()), topic: memoText(memo[node.MemoTopic])}, true
}

// runStatus names a Temporal run status as the runs routes do.
func runStatus(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		// Its work goes on in the run it continued as, which reading its result follows.
		// (A prediction never continues as new; a future one would not read FAILED.)
		enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return runRunning
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return runCompleted
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return runCanceled
	default: // failed, timed out, terminated by an operator
		return runFailed
	}
}

// pollRun answers GET /api/v1/runs/{runId}: the run's state and, once it has ended, the body
// (or the error, in Flowise's shape) its prediction would have been answered with.
func (p *predictions) pollRun(c *gin.Context) {
	r, ok := p.findRun(c)
	if !ok {
		return
	}
	out := gin.H{"runId": c.Param("runId"), "chatId": r.chatID, "status": r.status}
	if r.status == runRunning {
		c.JSON(http.StatusOK, out)
		return
	}
	ctx, cancel := context.WithTimeout(c, startTimeout)
	defer cancel()
	var res workflows.PredictionResult
	if err := p.temporal.GetWorkflow(ctx, r.workflowID(), r.runID).Get(ctx, &res); err != nil {
		status, msg := p.runError(err)
		out["error"] = errorBody{StatusCode: status, Message: msg}
		c.JSON(http.StatusOK, out)
		return
	}
	in, err := p.runInput(ctx, r.runRef)
	if err != nil {
		p.unavailable(c, "read run input", err)
		return
	}
	out["result"] = answer(in, res)
	c.JSON(http.StatusOK, out)
}

// streamRun answers GET /api/v1/runs/{runId}/stream: the run's answer as the streaming
// prediction would have sent it. A broker that keeps events replays the run's tokens from the
// first; with one that does not, a reader gets the answer whole when the run saves it.
func (p *predictions) streamRun(c *gin.Context) {
	r, ok := p.findRun(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c, startTimeout)
	in, err := p.runInput(ctx, r.runRef)
	cancel()
	if err != nil {
		p.unavailable(c, "read run input", err)
		return
	}
	_, keeps := p.broker.(resumer)
	// A run without a topic (older than the memo) publishes nowhere a reader could follow:
	// its reader gets the answer whole when the run ends.
	var sub stream.Subscription = noEvents{}
	if r.topic != "" {
		sub = p.subscribe(r.topic)
		defer sub.Close()
	}
	info := runInfo{WorkflowID: r.workflowID(), RunID: r.runID, ChatID: r.chatID, SessionID: in.Run.SessionID, Question: in.Run.Question}
	w := newSSEWriter(c, "")
	if w.event("start", "", 0) != nil {
		return
	}
	run := p.temporal.GetWorkflow(c.Request.Context(), r.workflowID(), r.runID)
	await(c, p.turn(sub, run), answerOnSave{&streamAnswer{p: p, w: w, info: info, joinedLate: !keeps || r.topic == ""}})
}

// noEvents is the subscription of a run that publishes nowhere: nothing ever arrives.
type noEvents struct{}

func (noEvents) Ready() <-chan struct{} { return nil }
func (noEvents) Drain() []stream.Event  { return nil }
func (noEvents) Close()                 {}

// runInput reads what a run was started with from the first event of its history.
func (p *predictions) runInput(ctx context.Context, r runRef) (workflows.PredictionInput, error) {
	var in workflows.PredictionInput
	events := p.temporal.GetWorkflowHistory(ctx, r.workflowID(), r.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !events.HasNext() {
		return in, fmt.Errorf("run %s has no history", r.runID)
	}
	first, err := events.Next()
	if err != nil {
		return in, fmt.Errorf("read the history of run %s: %w", r.runID, err)
	}
	started := first.GetWorkflowExecutionStartedEventAttributes()
	if started == nil {
		return in, fmt.Errorf("run %s: history does not begin with its start", r.runID)
	}
	if err := p.dataConverter().FromPayloads(started.GetInput(), &in); err != nil {
		return in, fmt.Errorf("decode the input of run %s: %w", r.runID, err)
	}
	return in, nil
}

// dataConverter decodes what runs record: the one Temporal's client was given.
func (p *predictions) dataConverter() converter.DataConverter {
	if p.converter != nil {
		return p.converter
	}
	return converter.GetDefaultDataConverter()
}
