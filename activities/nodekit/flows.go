package nodekit

import (
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// ChildFlow is flow f, checked and compiled, for a run to run as a child workflow with
// question: an Execute Flow node's or a flow tool's. A flow this version cannot run is a
// FlowError naming why. The flow travels as its plan, with secret inputs redacted, never as
// its flowData.
func ChildFlow(f *models.ChatFlow, question string) (node.ChildFlow, error) {
	child := node.ChildFlow{ChatflowID: f.ID, Type: f.Type, Question: question}
	var err error
	if f.Type == models.TypeAgentflow {
		child.Graph, err = node.AgentflowGraph(f.FlowData)
	} else {
		child.Plan, err = node.ChatflowPlan(f.FlowData)
	}
	if err != nil {
		return node.ChildFlow{}, FlowError("flow %s: %v", f.ID, err)
	}
	return child, nil
}
