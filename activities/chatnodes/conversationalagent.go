package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// ConversationalAgent is one model turn of Flowise's Conversational Agent: its system message
// (Flowise's "Assistant is a large language model…" when the node has none), the memory and
// the question. Flowise prompts the model to answer with a JSON action; Flowgate calls the
// tools natively instead (see agentTurn).
func (n *Nodes) ConversationalAgent(ctx context.Context, req node.Request) (node.Value, error) {
	return n.agentTurn(ctx, req, agentStyle{system: assistantPrefix, ownSystem: true})
}
