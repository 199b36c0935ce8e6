package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// predictionBody is Flowise's prediction request.
type predictionBody struct {
	Question       string         `json:"question"`
	Streaming      flexBool       `json:"streaming"`
	OverrideConfig map[string]any `json:"overrideConfig"`
	ChatID         string         `json:"chatId"`
	History        []node.Message `json:"history"`
	LeadEmail      string         `json:"leadEmail"`
	Uploads        []uploadBody   `json:"uploads"`
	Form           map[string]any `json:"form"`
	// HumanInput answers an agentflow stopped for human input (same chatId).
	HumanInput *workflows.HumanInput `json:"humanInput"`
}

// sessionID is the conversation the request names, as the prediction resolves it: the
// overrideConfig sessionId, else the chatId.
func (b predictionBody) sessionID() string {
	if id, _ := b.OverrideConfig["sessionId"].(string); id != "" {
		return id
	}
	return b.ChatID
}

// conversation resolves the chat and session of a turn as Flowise does: chatId, else the
// overrideConfig sessionId, else a new id; the session defaults to the chat.
func (b predictionBody) conversation() (chatID, sessionID string) {
	sessionID, _ = b.OverrideConfig["sessionId"].(string)
	chatID = cmp.Or(b.ChatID, sessionID, uuid.NewString())
	return chatID, cmp.Or(sessionID, chatID)
}

// flexBool accepts true and "true", as Flowise clients send either.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	*b = flexBool(s == "true")
	return nil
}

// Search attributes an operator can filter runs by in the Temporal UI.
var (
	chatflowIDKey = temporal.NewSearchAttributeKeyKeyword("FlowiseChatflowId")
	chatIDKey     = temporal.NewSearchAttributeKeyKeyword("FlowiseChatId")
)

// SearchAttributeNames are the keyword attributes runs carry when Config.SearchAttributes is on.
var SearchAttributeNames = []string{chatflowIDKey.GetName(), chatIDKey.GetName()}

// WorkflowID names the run of a conversation: one run at a time per chat, found again by the
// abort endpoint and by operators searching the UI for a chatflow or chat id.
func WorkflowID(chatflowID, chatID string) string {
	return "chat:" + chatflowID + ":" + chatID
}

func (s *Server) predict(c *gin.Context) {
	f, err := s.store.GetChatFlow(c, c.Param("id"))
	if errors.Is(err, models.ErrNotFound) {
		fail(c, http.StatusNotFound, "Chatflow %s not found", c.Param("id"))
		return
	}
	if err != nil {
		s.failErr(c, "Chatflow", err)
		return
	}
	if !s.authorizeFlow(c, f) {
		return
	}
	if last := c.GetHeader("Last-Event-ID"); last != "" {
		s.resumeStreaming(c, f.ID, last)
		return
	}
	rule, ok := s.flowRule(c, f)
	if !ok {
		return
	}
	if !bySession(rule) && !s.limit(c, f.ID, rule, "") {
		return
	}
	body, form, ok := readPrediction(c)
	if !ok {
		return
	}
	if bySession(rule) && !s.limit(c, f.ID, rule, body.sessionID()) {
		return
	}
	var files []*multipart.FileHeader
	if form != nil {
		defer form.RemoveAll()
		files = form.File["files"]
	}
	if msg, ok := validChatID(body.ChatID); !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if f.Type == agentflowType {
		s.predictAgentflow(c, f, body, files)
		return
	}
	in, streaming, err := s.predictionInput(f, body)
	if err != nil {
		fail(c, http.StatusInternalServerError, "%s", err.Error())
		return
	}
	if in.Run.Vars, err = s.flowVariables(c, in.Run.Vars); err != nil {
		s.failErr(c, "Variables", err)
		return
	}
	if in.FileUploads, err = s.storeUploads(c, &in.Run, body.Uploads, files); err != nil {
		s.failUpload(c, err)
		return
	}
	if streaming {
		s.predictStreaming(c, in)
		return
	}
	sub := s.broker.Subscribe(in.Run.Topic)
	defer sub.Close()
	run, ok := s.start(c, in)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.PredictionTimeout)
	defer cancel()
	done := awaitRun(ctx, run)
	for {
		select {
		case <-sub.Ready():
			for _, ev := range sub.Drain() {
				if res, ok := resultOf(ev); ok {
					c.JSON(http.StatusOK, answer(in, res))
					return
				}
			}
		case o := <-done:
			if o.err != nil {
				status, msg := s.runError(o.err)
				fail(c, status, "%s", msg)
				return
			}
			c.JSON(http.StatusOK, answer(in, o.res))
			return
		}
	}
}

// outcome is how a run ended.
type outcome struct {
	res workflows.PredictionResult
	err error
}

// awaitRun waits for the run's result in the background; ctx bounds the wait.
func awaitRun(ctx context.Context, run client.WorkflowRun) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.err = run.Get(ctx, &o.res)
		done <- o
	}()
	return done
}

// resultOf reads the answer the save activity publishes the moment the turn is stored: sooner
// than the workflow's own completion, and not subject to a missed long-poll wake-up.
func resultOf(ev stream.Event) (workflows.PredictionResult, bool) {
	var res workflows.PredictionResult
	if ev.Name != node.ResultEvent || json.Unmarshal(ev.Data, &res) != nil {
		return res, false
	}
	return res, true
}

// predictionInput compiles the flow and resolves the request into the run's immutable input.
func (s *Server) predictionInput(f *models.ChatFlow, body predictionBody) (workflows.PredictionInput, bool, error) {
	plan, err := s.plans.get(f)
	if err != nil {
		return workflows.PredictionInput{}, false, err
	}
	apiConfig, err := chatflow.ParseAPIConfig(deref(f.APIConfig))
	if err != nil {
		return workflows.PredictionInput{}, false, err
	}
	override := body.OverrideConfig
	chatID, sessionID := body.conversation()
	vars, _ := override["vars"].(map[string]any)
	if len(override) > 0 {
		plan = plan.ApplyOverrides(apiConfig.OverrideConfig, override)
	}
	in := workflows.PredictionInput{
		Plan: *plan,
		Run: node.Run{
			ChatflowID: f.ID,
			ChatID:     chatID,
			SessionID:  sessionID,
			Question:   body.Question,
			History:    body.History,
			Vars:       apiConfig.OverrideConfig.AllowedVars(vars),
		},
		ChatType:  "EXTERNAL",
		LeadEmail: body.LeadEmail,
	}
	streaming := bool(body.Streaming) && plan.CanStream()
	in.Run.Topic, in.Run.Stream = uuid.NewString(), streaming
	return in, streaming, nil
}

// start begins a chatflow's run; on failure it has answered.
func (s *Server) start(c *gin.Context, in workflows.PredictionInput) (client.WorkflowRun, bool) {
	return s.startRun(c, node.PredictionWorkflow, chatRun{in.Run.ChatflowID, in.Run.ChatID, in.Run.SessionID}, s.cfg.PredictionTimeout, in)
}

// chatRun names the conversation a run belongs to.
type chatRun struct{ chatflowID, chatID, sessionID string }

// startRun begins a run of workflowType with input in, one at a time per conversation; on
// failure it has answered.
func (s *Server) startRun(c *gin.Context, workflowType string, chat chatRun, timeout time.Duration, in any) (client.WorkflowRun, bool) {
	opts := client.StartWorkflowOptions{
		ID:                       WorkflowID(chat.chatflowID, chat.chatID),
		TaskQueue:                s.cfg.TaskQueue,
		WorkflowExecutionTimeout: timeout,
		// Without this the SDK hands back the chat's running run, and a second question
		// would get the first one's answer.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// In one process the first workflow task goes straight to the local worker, one
		// round trip through matching fewer; elsewhere the SDK starts normally.
		EnableEagerStart: true,
		Memo:             map[string]any{"chatflowId": chat.chatflowID, "chatId": chat.chatID, "sessionId": chat.sessionID},
	}
	if s.cfg.SearchAttributes {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(
			chatflowIDKey.ValueSet(chat.chatflowID), chatIDKey.ValueSet(chat.chatID))
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), startTimeout)
	defer cancel()
	run, err := s.temporal.ExecuteWorkflow(ctx, opts, workflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) && s.finishes(ctx, opts.ID) {
		// The previous turn had already answered (the answer is sent when it is saved) and
		// was only closing: the conversation is free now.
		run, err = s.temporal.ExecuteWorkflow(ctx, opts, workflowType, in)
	}
	if err == nil {
		return run, true
	}
	var invalid *serviceerror.InvalidArgument
	switch {
	case errors.As(err, &started):
		fail(c, http.StatusConflict, "A prediction for chat %s is already running; wait for it or abort it", chat.chatID)
	case errors.As(err, &invalid):
		fail(c, http.StatusBadRequest, "The prediction was refused: %s", invalid.Message)
	default:
		s.unavailable(c, "start prediction", err)
	}
	return nil, false
}

// closingGrace is how long a new turn waits for the chat's previous run to close. A run that
// has answered closes within milliseconds; one still working is a real conflict.
const closingGrace = 2 * time.Second

// finishes reports whether the chat's current run ends within closingGrace.
func (s *Server) finishes(ctx context.Context, workflowID string) bool {
	ctx, cancel := context.WithTimeout(ctx, closingGrace)
	defer cancel()
	err := s.temporal.GetWorkflow(ctx, workflowID, "").Get(ctx, nil)
	return err == nil || ctx.Err() == nil // it returned in time: the run has closed, however

}

// unavailable answers 503 when Temporal cannot be reached in time.
func (s *Server) unavailable(c *gin.Context, what string, err error) {
	s.log.Error(what, "error", err)
	fail(c, http.StatusServiceUnavailable, "The workflow service is unavailable; try again shortly")
}

// runError turns a failed run into a status and a message for the caller.
func (s *Server) runError(err error) (int, string) {
	var canceled *temporal.CanceledError
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, fmt.Sprintf("The prediction did not finish within %s", s.cfg.PredictionTimeout)
	case errors.Is(err, context.Canceled):
		return 499, "The client closed the request"
	case errors.As(err, &canceled):
		return http.StatusInternalServerError, "The prediction was aborted"
	case errors.As(err, &app):
		return http.StatusInternalServerError, app.Message()
	case errors.As(err, &timeout):
		return http.StatusGatewayTimeout, fmt.Sprintf("The prediction did not finish within %s", s.cfg.PredictionTimeout)
	case errors.As(err, new(*serviceerror.Unavailable)) || errors.As(err, new(*serviceerror.DeadlineExceeded)):
		return http.StatusServiceUnavailable, "The workflow service is unavailable; the prediction may still finish, and its messages will be saved"
	default:
		s.log.Error("prediction failed", "error", err)
		return http.StatusInternalServerError, "The prediction failed"
	}
}

// answer is Flowise's JSON response; streaming reuses its fields for the metadata event.
func answer(in workflows.PredictionInput, res workflows.PredictionResult) gin.H {
	out := gin.H{
		"text":          res.Text,
		"chatId":        in.Run.ChatID,
		"chatMessageId": res.ChatMessageID,
		"question":      in.Run.Question,
		"isStreamValid": false,
	}
	if res.SessionID != "" {
		out["sessionId"] = in.Run.SessionID
	}
	if res.MemoryType != "" {
		out["memoryType"] = res.MemoryType
	}
	return out
}

// authorizeFlow enforces the key bound to a chatflow (apikeyid): only that key may run it. A
// chatflow with no bound key is public, as in Flowise.
func (s *Server) authorizeFlow(c *gin.Context, f *models.ChatFlow) bool {
	if f.APIKeyID == nil || *f.APIKeyID == "" {
		return true
	}
	key, ok := s.verify(c)
	if !ok {
		return false
	}
	if key.ID != *f.APIKeyID {
		fail(c, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	return true
}

func (s *Server) abort(c *gin.Context) {
	f, err := s.store.GetChatFlow(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Chatflow", err)
		return
	}
	if !s.authorizeFlow(c, f) {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), startTimeout)
	defer cancel()
	err = s.temporal.CancelWorkflow(ctx, WorkflowID(c.Param("id"), c.Param("chatId")), "")
	var missing *serviceerror.NotFound
	switch {
	case errors.As(err, &missing):
		fail(c, http.StatusNotFound, "No running prediction for chat %s", c.Param("chatId"))
	case err != nil:
		s.unavailable(c, "abort prediction", err)
	default:
		c.JSON(http.StatusOK, gin.H{"status": 200, "message": "Chat message aborted"})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// startTimeout bounds calls that only ask Temporal to do something (start, cancel).
const startTimeout = 5 * time.Second

// validChatID keeps chat ids usable in workflow ids: short and printable.
func validChatID(id string) (string, bool) {
	if len(id) > 200 {
		return "chatId must be at most 200 characters", false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return "chatId must not contain control characters", false
		}
	}
	return "", true
}
