package agentnodes

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Start opens the run: the question (or form) is its output and startState the initial
// $flow.state. With startPersistState, the state the session's previous run ended with
// carries over, over startState's values, as in Flowise.
func (s *Steps) Start(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	out := map[string]any{"content": req.Run.Question, "question": req.Run.Question}
	if req.Run.Form != nil {
		out["form"] = req.Run.Form
	}
	state, err := agentflow.InitialState(req.Node.Inputs["startState"])
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: startState: %v", req.Node, err)
	}
	if agentflow.Truthy(req.Node.Inputs["startPersistState"]) {
		previous, err := s.previousState(ctx, req.Run)
		if err != nil {
			return node.StepResult{}, err
		}
		if len(previous) > 0 && state == nil {
			state = map[string]any{}
		}
		for k, v := range previous {
			state[k] = v
		}
	}
	return node.StepResult{Input: map[string]any{"question": req.Run.Question}, Output: out, State: state}, nil
}

// previousState is the $flow.state the session's latest run of this flow ended with: that of
// the last node it recorded with one.
func (s *Steps) previousState(ctx context.Context, run node.AgentflowRun) (map[string]any, error) {
	execs, _, err := s.Store.ListExecutions(ctx, models.ExecutionFilter{AgentflowID: run.ChatflowID, SessionID: run.SessionID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("read the session's previous run: %w", err)
	}
	if len(execs) == 0 {
		return nil, nil
	}
	var executed []node.ExecutedNode
	if err := json.Unmarshal([]byte(execs[0].ExecutionData), &executed); err != nil {
		return nil, nodekit.FlowError("the session's previous run %s has unreadable data: %v", execs[0].ID, err)
	}
	for i := len(executed) - 1; i >= 0; i-- {
		if executed[i].Data.State != nil {
			return executed[i].Data.State, nil
		}
	}
	return nil, nil
}
