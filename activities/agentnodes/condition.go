package agentnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// Condition evaluates the node's conditions in order: the first fulfilled one's branch
// runs, else the last (else) branch.
func (s *Steps) Condition(_ context.Context, req node.StepRequest) (node.StepResult, error) {
	sc := scope(req)
	conds, err := agentflow.ParseConditions(req.Node.Inputs["conditions"])
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: %v", req.Node, err)
	}
	for i := range conds {
		conds[i].Value1 = sc.Resolve(conds[i].Value1)
		conds[i].Value2 = sc.Resolve(conds[i].Value2)
	}
	branches, err := agentflow.ChooseBranches(conds)
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: %v", req.Node, err)
	}
	return node.StepResult{Input: map[string]any{"conditions": conds},
		Output: map[string]any{"content": "", "conditions": conds, "branches": branches}, Branches: branches}, nil
}
