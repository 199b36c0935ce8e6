package activities

import (
	"context"
	"encoding/json"
	"time"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// store is the activity that commits a turn (chat.saveMessages).
type store struct{ *nodekit.Deps }

// SaveMessages writes the user question and the answer of one prediction together.
func (s store) SaveMessages(ctx context.Context, r node.SaveMessagesRequest) error {
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
		SourceDocuments: opt(string(r.SourceDocuments)),
	}
	// An agent's tools are kept with its answer, as Flowise keeps them.
	if len(r.UsedTools) > 0 {
		raw, err := json.Marshal(r.UsedTools)
		if err != nil {
			return err
		}
		api.UsedTools = opt(string(raw))
	}
	if err := s.Store.SaveTurn(ctx, executionRow(r), user, api); err != nil {
		return err
	}
	if r.Topic != "" {
		// The answer is committed: tell the waiting API now rather than after the workflow
		// closes. If this is lost, the API still has the workflow's own result.
		res := node.Result{Text: r.Answer, ChatMessageID: r.APIMessageID, SessionID: r.SessionID, MemoryType: r.MemoryType, Action: r.Action,
			JSON: r.JSON, FlowVariables: r.FlowVariables, UsedTools: r.UsedTools, SourceDocuments: r.SourceDocuments}
		s.Publish(ctx, r.Topic, node.ResultEvent, res)
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
