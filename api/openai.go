package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// OpenAI's chat completion API over chatflows (a Flowgate extension, docs/extensions.md), for
// the programs that speak it: the model is a chatflow's id or name, the last user message the
// question, the messages before it the history. A request runs exactly as
// POST /api/v1/prediction/{id} does (the chatflow's bound key, rate limit, allowed origins,
// resends and Idempotency-Key), through the same path; only the answer, and the errors, are in
// OpenAI's shape.

// openAI serves /v1. It runs classic chatflows (models.TypeChatflow) only.
type openAI struct {
	p   *predictions
	log *slog.Logger
}

func (o *openAI) rootRoutes(root *gin.RouterGroup) {
	v1 := root.Group("/v1", speakOpenAI)
	v1.GET("/models", o.models)
	v1.POST("/chat/completions", o.chatCompletions)
}

// openAIShape marks a request whose errors are answered in OpenAI's shape (see fail).
const openAIShape = "flowgate.openAIShape"

func speakOpenAI(c *gin.Context) {
	c.Set(openAIShape, true)
	c.Next()
}

func speaksOpenAI(c *gin.Context) bool { return c.GetBool(openAIShape) }

// openAIErrorBody is OpenAI's error shape: {"error":{"message","type","param","code"}}.
type openAIErrorBody struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// openAIError is an error as OpenAI's API writes it: its type and code follow from the status,
// as the errors its clients tell apart are one per status here (a missing chatflow is the only
// 404, a refused key the only 401).
func openAIError(status int, msg string) openAIErrorBody {
	d := openAIErrorDetail{Message: msg, Type: "invalid_request_error"}
	code := func(s string) *string { return &s }
	switch {
	case status == http.StatusUnauthorized:
		d.Code = code("invalid_api_key")
	case status == http.StatusNotFound:
		d.Code = code("model_not_found")
	case status == http.StatusTooManyRequests:
		d.Type, d.Code = "requests", code("rate_limit_exceeded")
	case status >= http.StatusInternalServerError || status == statusClientClosed:
		d.Type = "server_error"
	}
	return openAIErrorBody{Error: d}
}

// model is an entry of GET /v1/models: a chatflow, named by its id, with its name beside.
type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	Name    string `json:"name"`
}

// models answers GET /v1/models: the chatflows the caller may call by name (see callable).
func (o *openAI) models(c *gin.Context) {
	flows, ok := o.callable(c, "")
	if !ok {
		return
	}
	list := make([]model, 0, len(flows))
	for _, f := range flows {
		list = append(list, model{ID: f.ID, Object: "model", Created: f.CreatedDate.Unix(), OwnedBy: "flowgate", Name: f.Name})
	}
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": list})
}

// callable are the chatflows a caller sees in GET /v1/models and may name by their name (all of
// them, or those named name). With a key: those bound to it and those bound to none (any valid
// key lists every chatflow through the management API anyway). Without one: only the chatflows
// bound to no key that their owners made public (isPublic, which Flowise's public-chatflows
// route shows too): a chatflow bound to no key is open to whoever knows its id, and a list would
// hand its id to everyone. A key that does not verify counts as none, as on the prediction
// route. On failure it has answered.
func (o *openAI) callable(c *gin.Context, name string) ([]models.ChatFlow, bool) {
	flows, err := o.p.store.CallableChatFlows(c, models.TypeChatflow, o.p.auth.verifiedKeyID(c), name)
	if err != nil {
		failErrOf(c, o.log, "Chatflows", "", err)
		return nil, false
	}
	return flows, true
}

// flow resolves a request's model into the chatflow it names and lets the caller in as the
// prediction route does: a key that does not verify counts as none, and only a chatflow bound
// to a key refuses it (401). An id is any chatflow's; a name is looked up among the chatflows
// the caller sees listed, so that names, easier to guess than ids, open nothing more. On
// failure it has answered: 404 model_not_found for a model no chatflow is.
func (o *openAI) flow(c *gin.Context, name string) (*models.ChatFlow, bool) {
	f, err := o.p.store.GetChatFlow(c, name)
	if errors.Is(err, models.ErrNotFound) {
		named, ok := o.callable(c, name)
		if !ok {
			return nil, false
		}
		switch len(named) {
		case 0:
			fail(c, http.StatusNotFound, "The model %q does not exist: name a chatflow by its id, or by a name GET /v1/models lists", name)
			return nil, false
		case 1:
			f, err = o.p.store.GetChatFlow(c, named[0].ID) // whole, to run it
		default:
			fail(c, http.StatusBadRequest, "%d chatflows are named %q; name one by its id", len(named), name)
			return nil, false
		}
	}
	if err != nil {
		failErrOf(c, o.log, "Chatflow", name, err)
		return nil, false
	}
	if !o.p.auth.authorizeFlow(c, f) {
		return nil, false
	}
	if f.Type != models.TypeChatflow {
		fail(c, http.StatusBadRequest, "Chatflow %s is of type %s; /v1/chat/completions runs chatflows of type %s", f.ID, f.Type, models.TypeChatflow)
		return nil, false
	}
	return f, true
}

// readChatRequest reads and parses a bounded chat completion request; on failure it has
// answered 400 or 413.
func readChatRequest(c *gin.Context) (chatRequest, bool) {
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, maxChatRequestBytes+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || len(raw) > maxChatRequestBytes:
		fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", maxChatRequestBytes)
		return chatRequest{}, false
	case err != nil:
		fail(c, http.StatusBadRequest, "the request body could not be read: %v", err)
		return chatRequest{}, false
	}
	req, err := parseChatRequest(raw)
	if err != nil {
		fail(c, http.StatusBadRequest, "%v", err)
		return chatRequest{}, false
	}
	return req, true
}

// chatCompletions answers POST /v1/chat/completions with a chat.completion, or with its chunks
// as a stream.
func (o *openAI) chatCompletions(c *gin.Context) {
	req, ok := readChatRequest(c)
	if !ok {
		return
	}
	f, ok := o.flow(c, req.Model)
	if !ok {
		return
	}
	p := o.p
	defer p.startSpan(c, f.ID)()
	rule, ok := p.admit(c, f)
	if !ok {
		return
	}
	body := req.predictionBody()
	if !allowOrigin(c, f, req.Stream) || !p.admitBody(c, f, rule, body) {
		return
	}
	defer p.beginPrediction(c, f.ID)()
	if c.GetHeader("Idempotency-Key") == "" {
		body.ChatID = o.retryChat(c, f.ID, req)
	}
	ident := identify(c, f.ID, &body, nil)
	t, ok := p.startChatflow(c, f, body, nil, ident)
	if !ok {
		return
	}
	defer t.sub.Close()
	// Named and dated after the run, so that a resend's answer is the first one's.
	a := &completionAnswer{p: p, c: c, id: "chatcmpl-" + t.run.GetRunID(), model: req.Model, created: o.runStart(c, t.startedRun).Unix(),
		joinedLate: p.joinedLate(t.startedRun)}
	if req.Stream {
		a.sse = newSSEWriter(c, "")
		if a.chunk(&chatDelta{Role: "assistant", Content: new(string)}, nil) != nil {
			return
		}
	}
	// Counted and traced as the prediction it is: OpenAI's clients are external callers.
	await(c, p.chatflowTurn(t.startedRun), observe[workflows.PredictionResult](c, false, req.Stream, answerOnSave{a}))
}

// retryChat names the chat of a request that carries no Idempotency-Key after the request
// itself: the chatflow, the caller (its verified key, else its address as the rate limiter
// sees it) and what it asks (model, stream, messages). OpenAI's official clients retry on their
// own, without a key (twice, on a dropped connection, 408, 409, 429 and 5xx): a retry then names
// the chat of the first attempt, where the resend rule (resend.go) attaches it to that run,
// while it runs and for RESEND_WINDOW after, instead of running the model again. The same
// caller asking the very same thing within the window gets the same answer.
func (o *openAI) retryChat(c *gin.Context, chatflowID string, req chatRequest) string {
	caller := "key\x00" + o.p.auth.verifiedKeyID(c)
	if caller == "key\x00" {
		caller = "ip\x00" + clientIP(o.p.limits.ips, c)
	}
	asked, _ := json.Marshal(struct { // plain values: cannot fail
		Model    string
		Stream   bool
		Messages chatMessages
	}{req.Model, req.Stream, req.Messages})
	sum := sha256.Sum256(asked)
	return uuid.NewSHA1(requestIDSpace, []byte("openai\x00"+chatflowID+"\x00"+caller+"\x00"+hex.EncodeToString(sum[:]))).String()
}

// runStart is when the run answering a request started, which dates its completion: the run
// it attached to, or the one it started, as Temporal recorded it (now, when it cannot say).
func (o *openAI) runStart(c *gin.Context, s startedRun) time.Time {
	if s.attached != nil {
		return s.attached.started
	}
	ctx, cancel := context.WithTimeout(c, startTimeout)
	defer cancel()
	desc, err := o.p.temporal.DescribeWorkflowExecution(ctx, s.run.GetID(), s.run.GetRunID())
	if err != nil {
		o.log.Warn("describe the started run: its completion is dated now", "error", err)
		return time.Now()
	}
	return desc.GetWorkflowExecutionInfo().GetStartTime().AsTime()
}

// completion is a chat.completion, or one chat.completion.chunk of a stream.
type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
}

type completionChoice struct {
	Index        int        `json:"index"`
	Message      *chatDelta `json:"message,omitempty"`
	Delta        *chatDelta `json:"delta,omitempty"`
	FinishReason *string    `json:"finish_reason"`
}

// chatDelta is a completion's message, or what a chunk adds to it.
type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// finishStop is the finish reason of every answer: a chatflow's answer is whole. A new string
// each time, so that no answer can change another's.
func finishStop() *string { return new("stop") }

// completionAnswer answers a chatflow turn in OpenAI's shape: one chat.completion, or its
// chunks (the role, the tokens as the run publishes them, the finish) and [DONE].
type completionAnswer struct {
	p       *predictions
	c       *gin.Context
	sse     *sseWriter // nil: one chat.completion
	id      string
	model   string
	created int64
	// joinedLate: the request attached to a run under way on a broker that keeps no events, so
	// the tokens it gets may start mid-answer; it gets the answer whole when it is saved.
	joinedLate bool
	tokens     tokenDedup
}

func (a *completionAnswer) chunk(delta *chatDelta, finish *string) error {
	return a.sse.data(completion{ID: a.id, Object: "chat.completion.chunk", Created: a.created, Model: a.model,
		Choices: []completionChoice{{Delta: delta, FinishReason: finish}}})
}

func (a *completionAnswer) content(text string) error {
	return a.chunk(&chatDelta{Content: &text}, nil)
}

func (a *completionAnswer) event(ev stream.Event) error {
	if a.sse == nil || a.joinedLate || ev.Name != node.TokenEvent {
		return nil
	}
	if tok, ok := a.tokens.add(ev); ok {
		return a.content(tok)
	}
	return nil
}

func (a *completionAnswer) ended(res workflows.PredictionResult, err error) {
	if err != nil {
		status, msg := a.p.runError(err)
		if a.sse == nil {
			fail(a.c, status, "%s", msg)
			return
		}
		_ = a.sse.data(openAIError(status, msg))
		_ = a.sse.data("[DONE]")
		return
	}
	text := res.Text
	if text == "" && res.JSON != nil {
		text = string(res.JSON) // an output parser's answer
	}
	if a.sse == nil {
		a.c.JSON(http.StatusOK, completion{ID: a.id, Object: "chat.completion", Created: a.created, Model: a.model,
			Choices: []completionChoice{{Message: &chatDelta{Role: "assistant", Content: &text}, FinishReason: finishStop()}}})
		return
	}
	// What did not arrive as tokens, as Flowise's stream sends it (see streamAnswer.ended).
	if rest, ok := a.tokens.rest(text); ok {
		_ = a.content(rest)
	}
	_ = a.chunk(&chatDelta{}, finishStop())
	_ = a.sse.data("[DONE]")
}

func (a *completionAnswer) idle() error {
	if a.sse == nil {
		return nil
	}
	return a.sse.comment("heartbeat")
}
