package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// OpenAIToolAgent is one model turn of Flowise's OpenAI Tool Agent (a deprecated node older
// flows still hold): the Tool Agent's way, with any tool-calling model (see agentTurn).
func (n *Nodes) OpenAIToolAgent(ctx context.Context, req node.Request) (node.Value, error) {
	return n.agentTurn(ctx, req, agentStyle{system: "You are a helpful AI assistant.", ownSystem: true})
}
