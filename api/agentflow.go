package api

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// agentflowType is the chatflow type of Agent Flows v2.
const agentflowType = "AGENTFLOW"

// predictAgentflow runs an AGENTFLOW chatflow, or with humanInput resumes the chat's run that
// stopped for it, and answers with Flowise's fields: the last node's output as text,
// agentFlowExecutedData node by node, and the action when the run stopped for human input.
func (p *predictions) predictAgentflow(c *gin.Context, f *models.ChatFlow, body predictionBody, files []*multipart.FileHeader, ident requestIdentity) {
	chatID, sessionID := body.conversation() // both checked by predict (body.problem)
	streaming := bool(body.Streaming)
	describeSpan(c, chatID, sessionID, streaming)
	var run client.WorkflowRun
	var sub stream.Subscription
	var ok bool
	if body.HumanInput != nil {
		answer := *body.HumanInput
		answer.Stream = streaming
		if run, sub, ok = p.resumeAgentflow(c, f.ID, chatID, ident, answer); !ok {
			return
		}
	} else {
		in, ok := p.agentflowInput(c, f, body, files, chatID, sessionID)
		if !ok {
			return
		}
		in.Run.Stream = streaming
		s, ok := p.startRun(c, node.AgentflowWorkflow, chatRun{f.ID, chatID, sessionID}, p.cfg.HumanInputTimeout, ident, func(topic string) any {
			in.Run.Topic = topic
			return in
		})
		if !ok {
			return
		}
		run, sub = s.run, s.sub
	}
	defer sub.Close()
	a := &agentflowAnswer{p: p, c: c, run: run,
		reply: gin.H{"question": body.Question, "chatId": chatID, "sessionId": sessionID, "executionId": run.GetRunID()}}
	if streaming {
		a.sse = newSSEWriter(c, "")
		_ = a.sse.event("start", "", 0)
		_ = a.sse.event("agentFlowEvent", node.StatusInProgress, 0)
	}
	await(c, p.turn(sub, run), observe[workflows.AgentflowResult](c, true, streaming, a))
}

// agentflowAnswer answers an agentflow turn with Flowise's fields: as JSON, or as a stream of
// the run's tokens and node events closed by the same fields.
type agentflowAnswer struct {
	p      *predictions
	c      *gin.Context
	sse    *sseWriter // nil: a JSON answer
	run    client.WorkflowRun
	reply  gin.H
	tokens tokenDedup
}

func (a *agentflowAnswer) event(ev stream.Event) error {
	if a.sse == nil {
		return nil
	}
	switch ev.Name {
	case node.TokenEvent:
		tok, ok := a.tokens.add(ev)
		if !ok {
			return nil
		}
		return a.sse.event(ev.Name, tok, 0)
	case node.NextAgentFlowEvent:
		return a.sse.event(ev.Name, ev.Data, 0)
	}
	return nil
}

// saved answers a turn saved with an action: the run has stopped for human input, and is
// asked what it has run. A turn saved without one is the run's last, answered when the run
// ends with what every node produced.
func (a *agentflowAnswer) saved(ctx context.Context, res workflows.PredictionResult) bool {
	if len(res.Action) == 0 {
		return false
	}
	a.reply["text"], a.reply["chatMessageId"], a.reply["action"] = res.Text, res.ChatMessageID, res.Action
	a.reply["agentFlowExecutedData"] = a.p.executedSoFar(ctx, a.run)
	a.finish(node.StatusStopped)
	return true
}

func (a *agentflowAnswer) ended(res workflows.AgentflowResult, err error) {
	if err != nil {
		status, msg := a.p.runError(err)
		if a.sse == nil {
			fail(a.c, status, "%s", msg)
			return
		}
		_ = a.sse.event("error", msg, 0)
		_ = a.sse.event("agentFlowEvent", node.StatusError, 0)
		_ = a.sse.event("end", "[DONE]", 0)
		return
	}
	a.reply["text"], a.reply["chatMessageId"], a.reply["agentFlowExecutedData"] = res.Text, res.ChatMessageID, res.Executed
	// The answering node's tools and documents, as Flowise reports the last node's.
	if n := len(res.Executed); n > 0 {
		for _, k := range answerExtras {
			if v, ok := res.Executed[n-1].Data.Output[k]; ok {
				a.reply[k] = v
			}
		}
	}
	a.finish(node.StatusFinished)
}

func (a *agentflowAnswer) idle() error {
	if a.sse == nil {
		return nil
	}
	return a.sse.comment("heartbeat")
}

// answerExtras are what an answer carries besides its text when its node has them.
var answerExtras = []string{"sourceDocuments", "usedTools"}

// finish answers a run that finished or stopped: the JSON reply, or on a stream the closing
// events Flowise sends (executed data, the action when it stopped, metadata, the run's
// status, end).
func (a *agentflowAnswer) finish(status string) {
	if a.sse == nil {
		a.c.JSON(http.StatusOK, a.reply)
		return
	}
	reply := a.reply
	// The nodes send their answers as tokens, as Flowise's do; what did not arrive so (a
	// broker that dropped some; an answer the workflow itself made: a loop's fallback, an
	// Execute Flow's, a tool's returned directly, a tool approval's question; a node kind
	// Flowise does not stream, such as HTTP) is sent now, so that the tokens add up to the text.
	text, _ := reply["text"].(string)
	if rest, ok := a.tokens.rest(text); ok {
		_ = a.sse.event(node.TokenEvent, rest, 0)
	}
	_ = a.sse.event("agentFlowExecutedData", reply["agentFlowExecutedData"], 0)
	for _, k := range answerExtras {
		if v, ok := reply[k]; ok {
			_ = a.sse.event(k, v, 0)
		}
	}
	if action, ok := reply["action"]; ok {
		_ = a.sse.event("action", action, 0)
	}
	_ = a.sse.event("metadata", gin.H{"chatId": reply["chatId"], "chatMessageId": reply["chatMessageId"], "question": reply["question"],
		"sessionId": reply["sessionId"], "executionId": reply["executionId"]}, 0)
	_ = a.sse.event("agentFlowEvent", status, 0)
	_ = a.sse.event("end", "[DONE]", 0)
}

// agentflowInput checks the flow and resolves the request into the run's input; on failure
// it has answered.
func (p *predictions) agentflowInput(c *gin.Context, f *models.ChatFlow, body predictionBody, files []*multipart.FileHeader, chatID, sessionID string) (workflows.AgentflowInput, bool) {
	var in workflows.AgentflowInput
	g, err := p.graphs.get(c, f)
	if err != nil {
		fail(c, http.StatusInternalServerError, "%s", err.Error())
		return in, false
	}
	apiConfig, err := chatflow.ParseAPIConfig(deref(f.APIConfig))
	if err != nil {
		fail(c, http.StatusInternalServerError, "%s", err.Error())
		return in, false
	}
	// Only the caller's own values travel with the run: stored variables are read by the
	// activities that use them, so their values never enter the run's history.
	vars := apiConfig.OverrideConfig.AllowedVars(body.requestedVars())
	form, err := body.Form.object()
	if err != nil {
		fail(c, http.StatusBadRequest, "form is not a JSON object: %v", err)
		return in, false
	}
	question := body.Question
	if question == "" && len(form) > 0 {
		// A Start node with form input: the form is the turn's question, in Flowise's
		// "key: value" lines, read from the body as sent (the map has lost the fields' order).
		if question, err = agentflow.FormQuestion(body.Form); err != nil {
			fail(c, http.StatusBadRequest, "form is not a JSON object: %v", err)
			return in, false
		}
	}
	in = workflows.AgentflowInput{
		Graph: *g,
		Run: node.AgentflowRun{ChatflowID: f.ID, ChatID: chatID, SessionID: sessionID, Question: question,
			Form: form, Vars: vars},
		ChatType:  "EXTERNAL",
		LeadEmail: body.LeadEmail,
	}
	if start, ok := g.Node(g.Start); ok {
		in.Run.EphemeralMemory = agentflow.Truthy(start.Inputs["startEphemeralMemory"])
	}
	if in.FileUploads, err = p.files.storeUploads(c, f, &node.Run{ChatflowID: f.ID, ChatID: chatID}, body.Uploads, files); err != nil {
		failUpload(c, p.log, err)
		return in, false
	}
	return in, true
}

// resumeTimeout bounds the wait for a stopped run to take its answer. The answer needs a
// workflow task, which after a worker crash waits out the dead worker's sticky queue (1 s)
// before another worker replays the run; a parked run is exactly what outlives workers.
const resumeTimeout = 20 * time.Second

// resumeAgentflow answers the chat's run that waits for human input, subscribed to the events
// of the rest of the run. A run that is not waiting (finished, never stopped, already
// answered) or an answer it refuses gets a clear error and changes nothing; on failure it has
// answered.
//
// Each answer is a Temporal update whose id is the request's identity, the run, and how many
// times the run took this same answer: a second, identical answer (reject twice on a loop) is
// a new update, while a resend of an answer the run took, arriving when the run no longer
// waits, is that update again, which Temporal does not apply twice: it attaches to the run.
func (p *predictions) resumeAgentflow(c *gin.Context, chatflowID, chatID string, ident requestIdentity, answer workflows.HumanInput) (client.WorkflowRun, stream.Subscription, bool) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), resumeTimeout)
	defer cancel()
	id := node.WorkflowID(chatflowID, chatID)
	var state workflows.HumanInputState
	v, err := p.temporal.QueryWorkflow(ctx, id, "", node.HumanInputQuery)
	if err == nil {
		err = v.Get(&state)
	}
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		fail(c, http.StatusConflict, "Chat %s is not waiting for human input", chatID)
		return nil, nil, false
	case err != nil:
		p.unavailable(c, "answer human input", err)
		return nil, nil, false
	}
	base := ident.requestID(state.RunID)
	taken := 0
	for _, a := range state.Answered {
		if strings.HasPrefix(a, base+"/") {
			taken++
		}
	}
	if !state.Waiting && taken > 0 {
		taken-- // a resend of the last such answer: the same update
	}
	answer.Topic = fmt.Sprintf("%s/%d", base, taken)
	sub := p.subscribe(answer.Topic)
	handle, err := p.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: answer.Topic, WorkflowID: id, RunID: state.RunID, UpdateName: node.HumanInputUpdate, Args: []any{answer},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var refused *temporal.ApplicationError
	switch {
	case err == nil:
		return p.temporal.GetWorkflow(c.Request.Context(), id, state.RunID), sub, true
	case errors.As(err, &notFound): // no run, or it has finished
		fail(c, http.StatusConflict, "Chat %s is not waiting for human input", chatID)
	case errors.As(err, &refused): // the run's validator said no; nothing changed
		status := http.StatusConflict
		if answer.Type != "proceed" && answer.Type != "reject" {
			status = http.StatusBadRequest
		}
		fail(c, status, "%s", refused.Message())
	default:
		p.unavailable(c, "answer human input", err)
	}
	sub.Close()
	return nil, nil, false
}

// executedSoFar asks a stopped run what it has run.
func (p *predictions) executedSoFar(ctx context.Context, run client.WorkflowRun) []node.ExecutedNode {
	var executed []node.ExecutedNode
	if v, err := p.temporal.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), node.ExecutedQuery); err == nil {
		_ = v.Get(&executed)
	}
	return executed
}
