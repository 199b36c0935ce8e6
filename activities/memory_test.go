package activities_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

var turnBase = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// saveTurns stores n question/answer pairs of one session through the SaveMessages activity, a
// minute apart, and returns them in conversation order.
func (f *actEnv) saveTurns(t *testing.T, chatflowID, sessionID string, n int) []node.Message {
	t.Helper()
	var msgs []node.Message
	for i := range n {
		at := turnBase.Add(time.Duration(i) * time.Minute).UnixMilli()
		q, a := fmt.Sprintf("%s question %d", sessionID, i), fmt.Sprintf("%s answer %d", sessionID, i)
		f.save(t, node.SaveMessagesRequest{
			ChatflowID: chatflowID, ChatID: "chat-" + sessionID, SessionID: sessionID, MemoryType: "Buffer Memory",
			UserMessageID: fmt.Sprintf("%s-%s-u%d", chatflowID, sessionID, i),
			APIMessageID:  fmt.Sprintf("%s-%s-a%d", chatflowID, sessionID, i),
			Question:      q, Answer: a, UserAt: at, APIAt: at + 1,
		})
		msgs = append(msgs, node.Message{Role: models.RoleUser, Content: q}, node.Message{Role: models.RoleAPI, Content: a})
	}
	return msgs
}

func memoryNode(t *testing.T) chatflow.Node {
	return flowNode(t, "conversation-chain.json", "bufferMemory_0")
}

func windowNode(k any) chatflow.Node {
	return chatflow.Node{ID: "bufferWindowMemory_0", Type: "customNode", Data: chatflow.NodeData{
		ID: "bufferWindowMemory_0", Name: "bufferWindowMemory", Label: "Buffer Window Memory", Category: chatflow.CategoryMemory,
		Inputs: map[string]any{"k": k, "sessionId": "", "memoryKey": "chat_history"},
	}}
}

func TestBufferMemoryLoadsSessionHistoryInOrder(t *testing.T) {
	f := newFixture(t)
	want := f.saveTurns(t, "flow-1", "s1", 3)
	f.saveTurns(t, "flow-1", "s2", 2) // another session of the same flow
	f.saveTurns(t, "flow-2", "s1", 2) // the same session id in another flow

	out, err := f.run(t, node.Request{Node: memoryNode(t), Run: node.Run{ChatflowID: "flow-1", SessionID: "s1", Question: "next"}})
	require.NoError(t, err)
	require.Equal(t, "bufferMemory", out.Kind)
	require.NotNil(t, out.Memory)
	require.Equal(t, "Buffer Memory", out.Memory.Label, "reported as memoryType")
	require.Equal(t, "s1", out.Memory.SessionID)
	require.Equal(t, "chat_history", out.Memory.MemoryKey)
	require.Equal(t, want, out.Memory.Messages)
}

func TestBufferMemoryUsesNodeSessionWhenRequestHasNone(t *testing.T) {
	f := newFixture(t)
	want := f.saveTurns(t, "flow-1", "fixed-session", 1)
	n := memoryNode(t)
	n.Data.Inputs["sessionId"] = "fixed-session"

	out, err := f.run(t, node.Request{Node: n, Run: node.Run{ChatflowID: "flow-1"}})
	require.NoError(t, err)
	require.Equal(t, "fixed-session", out.Memory.SessionID)
	require.Equal(t, want, out.Memory.Messages)
}

func TestBufferMemoryPrependsRequestHistory(t *testing.T) {
	f := newFixture(t)
	stored := f.saveTurns(t, "flow-1", "s1", 1)
	history := []node.Message{
		{Role: models.RoleUser, Content: "from the request"},
		{Role: models.RoleAPI, Content: "also from the request"},
	}

	out, err := f.run(t, node.Request{Node: memoryNode(t), Run: node.Run{ChatflowID: "flow-1", SessionID: "s1", History: history}})
	require.NoError(t, err)
	require.Equal(t, append(history, stored...), out.Memory.Messages)
}

func TestBufferMemoryEmptySession(t *testing.T) {
	f := newFixture(t)
	out, err := f.run(t, node.Request{Node: memoryNode(t), Run: node.Run{ChatflowID: "flow-1", SessionID: "new"}})
	require.NoError(t, err)
	require.Equal(t, "new", out.Memory.SessionID)
	require.Empty(t, out.Memory.Messages)
}

func TestBufferWindowMemoryKeepsLastKExchanges(t *testing.T) {
	f := newFixture(t)
	all := f.saveTurns(t, "flow-1", "s1", 5)

	out, err := f.run(t, node.Request{Node: windowNode(2.0), Run: node.Run{ChatflowID: "flow-1", SessionID: "s1"}})
	require.NoError(t, err)
	require.Equal(t, "Buffer Window Memory", out.Memory.Label)
	require.Equal(t, all[len(all)-4:], out.Memory.Messages, "k=2 keeps the last 2 exchanges, oldest first")

	// The window also applies to history sent with the request.
	history := []node.Message{{Role: models.RoleUser, Content: "old"}, {Role: models.RoleAPI, Content: "older"}}
	out, err = f.run(t, node.Request{Node: windowNode("1"), Run: node.Run{ChatflowID: "flow-1", SessionID: "s1", History: history}})
	require.NoError(t, err)
	require.Equal(t, all[len(all)-2:], out.Memory.Messages)

	// Fewer messages than the window: all of them, request history first.
	out, err = f.run(t, node.Request{Node: windowNode("10"), Run: node.Run{ChatflowID: "flow-1", SessionID: "s1", History: history}})
	require.NoError(t, err)
	require.Equal(t, append(history, all...), out.Memory.Messages)
}

func TestBufferWindowMemoryRejectsBadK(t *testing.T) {
	f := newFixture(t)
	for _, k := range []any{"0", "-2", "two"} {
		_, err := f.run(t, node.Request{Node: windowNode(k), Run: node.Run{ChatflowID: "flow-1", SessionID: "s1"}})
		app := requireAppError(t, err, node.ErrFlow, true)
		require.Contains(t, app.Message(), "bufferWindowMemory_0", "k=%v", k)
	}
}

func TestSaveMessagesIsIdempotentAndOrdered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	userAt := turnBase.UnixMilli()
	req := node.SaveMessagesRequest{
		ChatflowID: "flow-1", ChatID: "chat-1", SessionID: "s1", MemoryType: "Buffer Memory",
		UserMessageID: "11111111-1111-1111-1111-111111111111", APIMessageID: "22222222-2222-2222-2222-222222222222",
		Question: "hello?", Answer: "hi!", UserAt: userAt, APIAt: userAt + 1, LeadEmail: "lead@example.com",
	}
	f.save(t, req)
	f.save(t, req) // a retried attempt of the same save

	rows, err := f.store.ListMessages(ctx, models.MessageFilter{ChatflowID: "flow-1"})
	require.NoError(t, err)
	require.Len(t, rows, 2, "a retried save must not duplicate the turn")

	u, a := rows[0], rows[1]
	require.Equal(t, req.UserMessageID, u.ID)
	require.Equal(t, models.RoleUser, u.Role)
	require.Equal(t, "hello?", u.Content)
	require.Equal(t, turnBase, u.CreatedDate.UTC())
	require.Equal(t, "EXTERNAL", u.ChatType, "the default chat type of API predictions")
	require.Equal(t, "chat-1", u.ChatID)
	require.Equal(t, "s1", *u.SessionID)
	require.Equal(t, "Buffer Memory", *u.MemoryType)
	require.Equal(t, "lead@example.com", *u.LeadEmail)

	require.Equal(t, req.APIMessageID, a.ID)
	require.Equal(t, models.RoleAPI, a.Role)
	require.Equal(t, "hi!", a.Content)
	require.Equal(t, turnBase.Add(time.Millisecond), a.CreatedDate.UTC())
	require.Equal(t, "s1", *a.SessionID)
	require.Nil(t, a.LeadEmail)

	// A second turn comes after the first; a turn without memory stores no session.
	f.save(t, node.SaveMessagesRequest{
		ChatflowID: "flow-1", ChatID: "chat-1", ChatType: "INTERNAL",
		UserMessageID: "33333333-3333-3333-3333-333333333333", APIMessageID: "44444444-4444-4444-4444-444444444444",
		Question: "again?", Answer: "again!", UserAt: userAt + 60_000, APIAt: userAt + 60_001,
	})
	rows, err = f.store.ListMessages(ctx, models.MessageFilter{ChatflowID: "flow-1"})
	require.NoError(t, err)
	require.Len(t, rows, 4)
	var got []string
	for _, r := range rows {
		got = append(got, r.Role+":"+r.Content)
	}
	require.Equal(t, []string{"userMessage:hello?", "apiMessage:hi!", "userMessage:again?", "apiMessage:again!"}, got)
	require.Equal(t, "INTERNAL", rows[2].ChatType)
	require.Nil(t, rows[2].SessionID)
	require.Nil(t, rows[2].MemoryType)
}
