package activities

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// bufferMemory loads a session's history from chat_message, as Flowise's buffer memories do;
// bufferWindowMemory keeps the last k exchanges (2k messages).
func (a *Activities) bufferMemory(ctx context.Context, req node.Request) (node.Value, error) {
	sessionID := req.Run.SessionID
	if sessionID == "" {
		sessionID = req.Node.Input("sessionId")
	}
	limit := 0
	if req.Node.Data.Name == "bufferWindowMemory" {
		k := 4
		if s := req.Node.Input("k"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return node.Value{}, flowError("%s: k must be a positive whole number, got %q", req.Node.ID, s)
			}
			k = n
		}
		limit = 2 * k
	}
	rows, err := a.Store.History(ctx, req.Run.ChatflowID, sessionID, limit)
	if err != nil {
		return node.Value{}, fmt.Errorf("%s: %w", req.Node.ID, err)
	}
	msgs := make([]node.Message, 0, len(req.Run.History)+len(rows))
	msgs = append(msgs, req.Run.History...)
	for _, r := range rows {
		msgs = append(msgs, node.Message{Role: r.Role, Content: r.Content})
	}
	if limit > 0 && len(msgs) > limit {
		msgs = msgs[len(msgs)-limit:]
	}
	label := req.Node.Data.Label
	if label == "" {
		label = req.Node.Data.Name
	}
	key := req.Node.Input("memoryKey")
	if key == "" {
		key = "chat_history"
	}
	return node.Value{Kind: req.Node.Data.Name, Memory: &node.Memory{
		Label: label, SessionID: sessionID, MemoryKey: key, Messages: msgs,
	}}, nil
}

// SaveMessages writes the user question and the answer of one prediction together.
func (a *Activities) SaveMessages(ctx context.Context, r node.SaveMessagesRequest) error {
	chatType := r.ChatType
	if chatType == "" {
		chatType = "EXTERNAL"
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	user := models.ChatMessage{
		ID: r.UserMessageID, Role: models.RoleUser, ChatflowID: r.ChatflowID, ChatID: r.ChatID,
		Content: r.Question, ChatType: chatType, SessionID: opt(r.SessionID), MemoryType: opt(r.MemoryType),
		CreatedDate: millis(r.UserAt), LeadEmail: opt(r.LeadEmail),
		FileUploads: opt(r.FileUploads),
	}
	api := models.ChatMessage{
		ID: r.APIMessageID, Role: models.RoleAPI, ChatflowID: r.ChatflowID, ChatID: r.ChatID,
		Content: r.Answer, ChatType: chatType, SessionID: opt(r.SessionID), MemoryType: opt(r.MemoryType),
		CreatedDate: millis(r.APIAt), Action: opt(string(r.Action)),
	}
	if err := a.Store.SaveTurn(ctx, executionRow(r), user, api); err != nil {
		return err
	}
	if r.Topic != "" {
		// The answer is committed: tell the waiting API now rather than after the workflow
		// closes. If this is lost, the API still has the workflow's own result.
		res := node.Result{Text: r.Answer, ChatMessageID: r.APIMessageID, SessionID: r.SessionID, MemoryType: r.MemoryType, Action: r.Action}
		if err := a.Stream.Publish(ctx, r.Topic, 0, node.ResultEvent, res); err != nil && a.Logger != nil {
			a.Logger.Warn("publish prediction result", "topic", r.Topic, "error", err)
		}
	}
	return nil
}

func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// executionRow is the execution record a save carries, as a row; nil for chatflows.
func executionRow(r node.SaveMessagesRequest) *models.Execution {
	e := r.Execution
	if e == nil {
		return nil
	}
	row := &models.Execution{
		ID: e.ID, ExecutionData: string(e.Data), State: e.State, AgentflowID: e.AgentflowID, SessionID: e.SessionID,
		CreatedDate: millis(e.StartedAt), UpdatedDate: millis(r.APIAt),
	}
	if len(r.Action) > 0 {
		action := string(r.Action)
		row.Action = &action
		stopped := millis(r.APIAt)
		row.StoppedDate = &stopped
	}
	return row
}
