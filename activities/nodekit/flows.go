package nodekit

import (
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// ChildFlow is flow f, checked and compiled, for a run to run as a child workflow with
// question: an Execute Flow node's or a flow tool's. A flow this version cannot run is a
// FlowError naming why. The flow travels as its plan, with secret inputs redacted, never as
// its flowData.
func ChildFlow(f *models.ChatFlow, question string) (node.ChildFlow, error) {
	child := node.ChildFlow{ChatflowID: f.ID, Type: f.Type, Question: question}
	if f.Type == models.TypeAgentflow {
		g, err := agentflow.Parse(f.FlowData)
		if err == nil {
			err = node.CheckAgentflow(g)
		}
		if err != nil {
			return node.ChildFlow{}, FlowError("flow %s: %v", f.ID, err)
		}
		child.Graph = g
		return child, nil
	}
	g, err := chatflow.Parse(f.FlowData)
	if err != nil {
		return node.ChildFlow{}, FlowError("flow %s: %v", f.ID, err)
	}
	plan, err := chatflow.Compile(g, node.InChatflow)
	if err != nil {
		return node.ChildFlow{}, FlowError("flow %s: %v", f.ID, err)
	}
	redacted := node.RedactSecretInputs(*plan)
	child.Plan = &redacted
	return child, nil
}
