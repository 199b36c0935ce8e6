package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// predictions runs chatflows and agentflows for their clients: it starts a run per turn,
// answers from its events (JSON or SSE), resumes streams, and aborts runs.
type predictions struct {
	cfg      Config
	store    *models.Store
	temporal client.Client
	broker   stream.Broker
	// converter decodes the inputs runs recorded (see runInput).
	converter converter.DataConverter
	files     chatFiles
	plans     *compiledFlows[*chatflow.Plan]
	graphs    *compiledFlows[*agentflow.Graph]
	auth      *auth
	limits    *rateLimits
	log       *slog.Logger
	// metrics count predictions (nil: off); tracer opens their API spans (nil: off).
	metrics *telemetry.Metrics
	tracer  trace.Tracer
}

func (p *predictions) routes(open, _ *gin.RouterGroup) {
	open.POST("/prediction/:id", p.predict)
	open.PUT("/chatmessage/abort/:id/:chatId", p.abort)
	open.GET("/runs/:runId", p.pollRun)
	open.GET("/runs/:runId/stream", p.streamRun)
}

func (p *predictions) predict(c *gin.Context) {
	f, ok := p.auth.authorizedFlow(c)
	if !ok {
		return
	}
	defer p.startSpan(c, f.ID)()
	if last := c.GetHeader("Last-Event-ID"); last != "" {
		if allowOrigin(c, f, true) {
			p.resumeStreaming(c, f.ID, last)
		}
		return
	}
	rule, ok := p.admit(c, f)
	if !ok {
		return
	}
	body, form, ok := readPrediction(c)
	if !ok {
		return
	}
	var files []*multipart.FileHeader
	if form != nil {
		defer form.RemoveAll()
		files = form.File["files"]
	}
	// Checked once the body is read: Flowise answers a refused streaming request in text,
	// which its widget shows. The bound key was checked first, so a caller without it never
	// has its body read.
	if !allowOrigin(c, f, bool(body.Streaming)) || !p.admitBody(c, f, rule, body) {
		return
	}
	defer p.beginPrediction(c, f.ID)()
	ident := identify(c, f.ID, &body, files)
	if f.Type == agentflowType {
		p.predictAgentflow(c, f, body, files, ident)
		return
	}
	async := prefersAsync(c)
	if async {
		// Published as they come, so that a reader of the run's stream gets them live.
		body.Streaming = true
	}
	t, ok := p.startChatflow(c, f, body, files, ident)
	if !ok {
		return
	}
	defer t.sub.Close()
	switch {
	case async:
		p.accepted(c, t)
	case t.streaming:
		p.predictStreaming(c, t)
	default:
		await(c, p.chatflowTurn(t.startedRun), observe[workflows.PredictionResult](c, false, false, answerOnSave{&jsonAnswer{p: p, c: c, in: t.in}}))
	}
}

// admit reads the chatflow's rate limit and takes from it what can be taken before the body
// is read; on refusal it has answered.
func (p *predictions) admit(c *gin.Context, f *models.ChatFlow) (ratelimit.Rule, bool) {
	rule, ok := p.limits.rule(c, f)
	if !ok {
		return rule, false
	}
	if !bySession(rule) && !p.limits.take(c, f.ID, rule, "") {
		return rule, false
	}
	return rule, true
}

// admitBody refuses, before anything runs, a body that cannot run: a run with an unusable id or
// text fails only after its model call (see storable), and a session limit needs a valid
// session to count. On refusal it has answered.
func (p *predictions) admitBody(c *gin.Context, f *models.ChatFlow, rule ratelimit.Rule, body predictionBody) bool {
	if msg := body.problem(); msg != "" {
		fail(c, http.StatusBadRequest, "%s", msg)
		return false
	}
	return !bySession(rule) || p.limits.take(c, f.ID, rule, body.sessionID())
}

// chatTurn is a started (or attached to) chatflow run and what answering it needs.
type chatTurn struct {
	startedRun
	in workflows.PredictionInput
	// streaming: the run publishes its answer's tokens.
	streaming bool
}

// startChatflow resolves an admitted request into the chatflow run's input, stores its uploads
// and starts the run (or attaches to the one a resend of it started). On failure it has
// answered.
func (p *predictions) startChatflow(c *gin.Context, f *models.ChatFlow, body predictionBody, files []*multipart.FileHeader, ident requestIdentity) (chatTurn, bool) {
	in, streaming, err := p.predictionInput(c, f, body)
	if err != nil {
		status := http.StatusInternalServerError // the saved flow cannot run
		var bad *chatflow.OverrideError          // an override the flow cannot take
		if errors.Is(err, errBodyLimit) || errors.As(err, &bad) {
			status = http.StatusBadRequest
		}
		fail(c, status, "%s", err.Error())
		return chatTurn{}, false
	}
	if in.FileUploads, err = p.files.storeUploads(c, f, &in.Run, body.Uploads, files); err != nil {
		failUpload(c, p.log, err)
		return chatTurn{}, false
	}
	describeSpan(c, in.Run.ChatID, in.Run.SessionID, streaming)
	chat := chatRun{in.Run.ChatflowID, in.Run.ChatID, in.Run.SessionID}
	s, ok := p.startRun(c, node.PredictionWorkflow, chat, p.cfg.PredictionTimeout, ident, func(topic string) any {
		in.Run.Topic = topic
		return in
	})
	return chatTurn{startedRun: s, in: in, streaming: streaming}, ok
}

// predictionInput compiles the flow and resolves the request into the run's immutable input.
func (p *predictions) predictionInput(ctx context.Context, f *models.ChatFlow, body predictionBody) (workflows.PredictionInput, bool, error) {
	plan, err := p.plans.get(ctx, f)
	if err != nil {
		return workflows.PredictionInput{}, false, err
	}
	apiConfig, err := chatflow.ParseAPIConfig(deref(f.APIConfig))
	if err != nil {
		return workflows.PredictionInput{}, false, err
	}
	chatID, sessionID := body.conversation()
	// The compiled plan keeps secrets written into the flow itself out of history (the nodes
	// read them from the saved flow); a value the caller overrides is the caller's to send,
	// and is used as sent.
	// The overrides are decoded only for a chatflow that takes them.
	if apiConfig.OverrideConfig.Status && len(body.OverrideConfig) > 0 {
		override, err := body.OverrideConfig.object()
		if err != nil {
			return workflows.PredictionInput{}, false, fmt.Errorf("%w: overrideConfig: %w", errBodyLimit, err)
		}
		if plan, err = plan.ApplyOverrides(apiConfig.OverrideConfig, override); err != nil {
			return workflows.PredictionInput{}, false, err
		}
	}
	in := workflows.PredictionInput{
		Plan: *plan,
		Run: node.Run{
			ChatflowID: f.ID,
			ChatID:     chatID,
			SessionID:  sessionID,
			Question:   body.Question,
			History:    body.History,
			Vars:       apiConfig.OverrideConfig.AllowedVars(body.requestedVars()),
		},
		ChatType:  "EXTERNAL",
		LeadEmail: body.LeadEmail,
		Version:   node.PredictionVersion,
	}
	streaming := bool(body.Streaming) && plan.CanStream()
	in.Run.Stream = streaming
	return in, streaming, nil
}

// answer is Flowise's JSON response to a chatflow turn.
func answer(in workflows.PredictionInput, res workflows.PredictionResult) gin.H {
	out := gin.H{
		"text":          res.Text,
		"chatId":        in.Run.ChatID,
		"chatMessageId": res.ChatMessageID,
		"question":      in.Run.Question,
		"isStreamValid": false,
		"sessionId":     in.Run.SessionID,
	}
	if res.MemoryType != "" {
		out["memoryType"] = res.MemoryType
	}
	if res.JSON != nil {
		// An output parser's answer: Flowise answers {"json": …} and no text.
		delete(out, "text")
		out["json"] = res.JSON
	}
	if res.FlowVariables != nil {
		out["flowVariables"] = res.FlowVariables
	}
	if len(res.SourceDocuments) > 0 {
		out["sourceDocuments"] = res.SourceDocuments
	}
	if len(res.UsedTools) > 0 {
		out["usedTools"] = res.UsedTools
	}
	return out
}

// chatAnswerer answers a chatflow turn whose saved answer is the run's result.
type chatAnswerer interface {
	event(ev stream.Event) error
	ended(res workflows.PredictionResult, err error)
	idle() error
}

// answerOnSave answers a chatflow turn the moment its answer is saved, as the run's end would:
// tokens are published before the answer is saved, so all of them are out by then.
type answerOnSave struct{ chatAnswerer }

func (a answerOnSave) saved(_ context.Context, res workflows.PredictionResult) bool {
	a.ended(res, nil)
	return true
}

// jsonAnswer answers a chatflow turn with Flowise's JSON body, or its error.
type jsonAnswer struct {
	p  *predictions
	c  *gin.Context
	in workflows.PredictionInput
}

func (a *jsonAnswer) event(stream.Event) error { return nil }

func (a *jsonAnswer) ended(res workflows.PredictionResult, err error) {
	if err != nil {
		status, msg := a.p.runError(err)
		fail(a.c, status, "%s", msg)
		return
	}
	a.c.JSON(http.StatusOK, answer(a.in, res))
}

func (a *jsonAnswer) idle() error { return nil }

// abort cancels the chat's running prediction.
func (p *predictions) abort(c *gin.Context) {
	if _, ok := p.auth.widgetFlow(c, c.Param("id")); !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), startTimeout)
	defer cancel()
	id := node.WorkflowID(c.Param("id"), c.Param("chatId"))
	// The chat's current run, named so that the abort cannot reach the chat's next turn.
	runID := ""
	desc, err := p.temporal.DescribeWorkflowExecution(ctx, id, "")
	if err == nil {
		runID = desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		err = p.temporal.CancelWorkflow(ctx, id, runID)
	}
	var missing *serviceerror.NotFound
	switch {
	case errors.As(err, &missing):
		fail(c, http.StatusNotFound, "No running prediction for chat %s", c.Param("chatId"))
	case err != nil:
		p.unavailable(c, "abort prediction", err)
	default:
		// Recorded first, so the run ends canceled; this then stops a call running inside
		// the run's workflow task at once, which the cancellation reaches only when the task
		// ends (see stream.Aborter). Without it the abort still lands, later.
		if err := p.broker.Abort(ctx, runID); err != nil {
			p.log.Warn("abort prediction: the running call was not told; it stops when its task ends", "error", err)
		}
		c.JSON(http.StatusOK, gin.H{"status": 200, "message": "Chat message aborted"})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// maxConversationIDLen bounds chat and session ids, which become part of workflow ids.
const maxConversationIDLen = 200

// conversationIDProblem says why id, the request's field, cannot name a chat or session, or ""
// when it can: they become part of workflow ids, so they must be short and printable.
func conversationIDProblem(field, id string) string {
	if len(id) > maxConversationIDLen {
		return fmt.Sprintf("%s must be at most %d characters", field, maxConversationIDLen)
	}
	if !printable(id) {
		return field + " must not contain control characters or invalid UTF-8"
	}
	return ""
}

// problem says why the request cannot run, or "" when it can: its chat id and the session id
// that stands in for a missing one must be usable ids, and every text it carries storable.
func (b predictionBody) problem() string {
	if msg := conversationIDProblem("chatId", b.ChatID); msg != "" {
		return msg
	}
	if id := b.overrideSessionID(); id != "" {
		if msg := conversationIDProblem("overrideConfig.sessionId", id); msg != "" {
			return msg
		}
	}
	if field := unstorableField(b); field != "" {
		return field + " must not contain NUL characters or invalid UTF-8"
	}
	return ""
}
