package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// Search attributes an operator can filter runs by in the Temporal UI.
var (
	chatflowIDKey = temporal.NewSearchAttributeKeyKeyword(node.ChatflowIDAttribute)
	chatIDKey     = temporal.NewSearchAttributeKeyKeyword(node.ChatIDAttribute)
)

// SearchAttributeNames are the keyword attributes runs carry when Config.SearchAttributes is on.
var SearchAttributeNames = []string{chatflowIDKey.GetName(), chatIDKey.GetName()}

// startTimeout bounds calls that only ask Temporal to do something (start, cancel).
const startTimeout = 5 * time.Second

// chatRun names the conversation a run belongs to.
type chatRun struct{ chatflowID, chatID, sessionID string }

// startedRun is the run a request started, or the one it attached to as a resend.
type startedRun struct {
	run client.WorkflowRun
	// sub carries the run's events; the caller closes it.
	sub stream.Subscription
	// attached is the run a resend attached to, as it stood then; nil for a run just started.
	attached *currentRun
}

// joinedLate reports whether the request attached to a run under way on a broker that keeps
// no events: its subscription may begin mid-answer, so its tokens are not the answer's.
func (p *predictions) joinedLate(s startedRun) bool {
	_, keeps := p.broker.(resumer)
	return s.attached != nil && !keeps
}

// startRun begins the run of workflowType that answers a request, one at a time per
// conversation, subscribed to its events before it starts; input makes the run's input for
// the events' topic. A resent request attaches to the run the first one started instead (see
// resend.go). On failure it has answered; otherwise the caller closes the subscription.
func (p *predictions) startRun(c *gin.Context, workflowType string, chat chatRun, timeout time.Duration, ident requestIdentity,
	input func(topic string) any) (startedRun, bool) {
	opts := client.StartWorkflowOptions{
		ID:                       node.WorkflowID(chat.chatflowID, chat.chatID),
		TaskQueue:                p.cfg.TaskQueue,
		WorkflowExecutionTimeout: timeout,
		// Without this the SDK hands back the chat's running run, and a second question
		// would get the first one's answer.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// In one process the first workflow task goes straight to the local worker, one
		// round trip through matching fewer; elsewhere the SDK starts normally.
		EnableEagerStart: true,
	}
	if workflowType == node.PredictionWorkflow {
		// A chatflow prediction is one workflow task (workflows.PredictionTaskTimeout).
		opts.WorkflowTaskTimeout = workflows.PredictionTaskTimeout
	}
	if p.cfg.SearchAttributes {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(
			chatflowIDKey.ValueSet(chat.chatflowID), chatIDKey.ValueSet(chat.chatID))
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), startTimeout)
	defer cancel()
	// Twice at most: once more when the chat's previous run was just closing, or when another
	// request started a run between our look and our start.
	for attempt := 0; ; attempt++ {
		last := attempt == 1
		var cur *currentRun
		if !ident.newChat || attempt > 0 {
			// A chat the request named may have a run; one made up for it has none (unless a
			// copy of the request started it: then the start below tells, and we look).
			var err error
			if cur, err = p.current(ctx, opts.ID); err != nil {
				p.unavailable(c, "start prediction", err)
				return startedRun{}, false
			}
		}
		previous := ""
		if cur != nil {
			if cur.resentTo(ident, p.cfg.ResendWindow, time.Now()) {
				attached(c) // counted as the first request's prediction
				return startedRun{run: p.temporal.GetWorkflow(c.Request.Context(), opts.ID, cur.runID), sub: p.subscribe(cur.topic), attached: cur}, true
			}
			if cur.running() {
				// The previous turn may have answered (the answer is sent when it is saved)
				// and be only closing: then the conversation is free in a moment.
				if !last && p.finishes(ctx, opts.ID) {
					continue
				}
				fail(c, http.StatusConflict, "A prediction for chat %s is already running; wait for it or abort it", chat.chatID)
				return startedRun{}, false
			}
			previous = cur.runID
		}
		topic := ident.requestID(previous)
		opts.Memo = map[string]any{node.MemoChatflowID: chat.chatflowID, node.MemoChatID: chat.chatID,
			node.MemoSessionID: chat.sessionID, node.MemoRequest: ident.fingerprint, node.MemoTopic: topic}
		// Subscribe before the run starts so the first event cannot be missed.
		sub := p.subscribe(topic)
		run, err := p.temporal.ExecuteWorkflow(withStartRequest(ctx, topic), opts, workflowType, input(topic))
		if err == nil {
			// Started, or a copy of this request racing us started it: the same run either way.
			return startedRun{run: run, sub: sub}, true
		}
		sub.Close()
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		var invalid *serviceerror.InvalidArgument
		switch {
		case errors.As(err, &started) && !last:
			continue // another request started a run since we looked: look again
		case errors.As(err, &started):
			fail(c, http.StatusConflict, "A prediction for chat %s is already running; wait for it or abort it", chat.chatID)
		case errors.As(err, &invalid):
			fail(c, http.StatusBadRequest, "The prediction was refused: %s", invalid.Message)
		default:
			p.unavailable(c, "start prediction", err)
		}
		return startedRun{}, false
	}
}

// subscribe follows a run's events. A broker that keeps events replays them from the start,
// so a request that attaches to a run already under way gets what it missed.
func (p *predictions) subscribe(topic string) stream.Subscription {
	if r, ok := p.broker.(resumer); ok {
		return p.counted(r.SubscribeAfter(topic, 0))
	}
	return p.counted(p.broker.Subscribe(topic))
}

// closingGrace is how long a new turn waits for the chat's previous run to close. A run that
// has answered closes within milliseconds; one still working is a real conflict.
const closingGrace = 2 * time.Second

// finishes reports whether the chat's current run ends within closingGrace.
func (p *predictions) finishes(ctx context.Context, workflowID string) bool {
	ctx, cancel := context.WithTimeout(ctx, closingGrace)
	defer cancel()
	err := p.temporal.GetWorkflow(ctx, workflowID, "").Get(ctx, nil)
	return err == nil || ctx.Err() == nil // it returned in time: the run has closed, however
}

// unavailable answers 503 when Temporal cannot be reached in time.
func (p *predictions) unavailable(c *gin.Context, what string, err error) {
	p.log.Error(what, "error", err)
	fail(c, http.StatusServiceUnavailable, "The workflow service is unavailable; try again shortly")
}

// statusClientClosed is nginx's "client closed request": the client left before its answer.
const statusClientClosed = 499

// runError turns a failed prediction into a status and a message for the caller.
func (p *predictions) runError(err error) (int, string) {
	return runFailure(err, "prediction", p.cfg.PredictionTimeout, predictionStatuses, p.log)
}

// predictionStatuses are the answers to predictions that failed for the caller's reason: an
// upload that cannot be read.
var predictionStatuses = map[string]int{node.ErrInvalid: http.StatusUnprocessableEntity}

// runFailure turns a failed run of some work into a status and a message for the caller.
// statusOf gives the status of an application error by its type; nil (or 0) means 500.
func runFailure(err error, work string, timeout time.Duration, statusOf map[string]int, log *slog.Logger) (int, string) {
	var canceled *temporal.CanceledError
	var app *temporal.ApplicationError
	var timedOut *temporal.TimeoutError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timedOut):
		return http.StatusGatewayTimeout, fmt.Sprintf("The %s did not finish within %s", work, timeout)
	case errors.Is(err, context.Canceled):
		return statusClientClosed, "The client closed the request"
	case errors.As(err, &canceled):
		return http.StatusInternalServerError, fmt.Sprintf("The %s was aborted", work)
	case errors.As(err, new(*temporal.TerminatedError)):
		// An operator's doing, not a fault to log (a polled run would log it at every poll).
		return http.StatusInternalServerError, fmt.Sprintf("The %s was terminated", work)
	case errors.As(err, &app):
		return cmp.Or(statusOf[app.Type()], http.StatusInternalServerError), app.Message()
	case errors.As(err, new(*serviceerror.Unavailable)) || errors.As(err, new(*serviceerror.DeadlineExceeded)):
		return http.StatusServiceUnavailable, fmt.Sprintf("The workflow service is unavailable; the %s may still finish", work)
	default:
		log.Error(work+" failed", "error", err)
		return http.StatusInternalServerError, fmt.Sprintf("The %s failed", work)
	}
}
