package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// ReactAgentChat is one model turn of Flowise's ReAct Agent for chat models. Flowise's prompt
// (LangChain hub's react-chat) has the model write Thought/Action/Observation text; Flowgate
// keeps that prompt's preamble as the system message (the node has no systemMessage input)
// and calls the tools natively (see agentTurn).
func (n *Nodes) ReactAgentChat(ctx context.Context, req node.Request) (node.Value, error) {
	return n.agentTurn(ctx, req, agentStyle{system: assistantPrefix})
}
