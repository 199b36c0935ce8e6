package chatnodes

import (
	"cmp"
	"context"
	"fmt"

	"github.com/flowgate/flowgate/workflows/node"
)

// BufferMemory loads a session's whole history from chat_message, as Flowise's buffer memory
// does.
func (n *Nodes) BufferMemory(ctx context.Context, req node.Request) (node.Value, error) {
	return n.loadMemory(ctx, req, 0)
}

// loadMemory loads the session's history, its last limit messages when limit is above zero,
// after the request's own history.
func (n *Nodes) loadMemory(ctx context.Context, req node.Request, limit int) (node.Value, error) {
	sessionID := cmp.Or(req.Run.SessionID, req.Node.Input("sessionId"))
	rows, err := n.Store.History(ctx, req.Run.ChatflowID, sessionID, limit)
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
	d := req.Node.Data
	return node.Value{Kind: d.Name, Memory: &node.Memory{
		Label: cmp.Or(d.Label, d.Name), SessionID: sessionID, MemoryKey: cmp.Or(req.Node.Input("memoryKey"), "chat_history"), Messages: msgs,
	}}, nil
}
