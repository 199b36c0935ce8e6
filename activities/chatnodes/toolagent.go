package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// ToolAgent is one model turn of Flowise's Tool Agent: a tool-calling chat model with the
// node's system message, or the chatPromptTemplate wired into it (see agentTurn).
func (n *Nodes) ToolAgent(ctx context.Context, req node.Request) (node.Value, error) {
	return n.agentTurn(ctx, req, agentStyle{system: "You are a helpful AI assistant.", ownSystem: true, promptTemplate: true})
}
