package node

import (
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// ChatflowPlan compiles a classic chatflow's flowData into the plan its runs receive: every
// node of a kind this version runs, and secret inputs redacted (RedactSecretInputs). The API
// compiles each saved version once with it, and so do the activities that read a flow another
// flow runs.
func ChatflowPlan(flowData string) (*chatflow.Plan, error) {
	g, err := chatflow.Parse(flowData)
	if err != nil {
		return nil, err
	}
	plan, err := chatflow.Compile(g, InChatflow)
	if err != nil {
		return nil, err
	}
	redacted := RedactSecretInputs(*plan)
	return &redacted, nil
}

// AgentflowGraph reads an agentflow's flowData and checks that every node can run here.
func AgentflowGraph(flowData string) (*agentflow.Graph, error) {
	g, err := agentflow.Parse(flowData)
	if err != nil {
		return nil, err
	}
	if err := CheckAgentflow(g); err != nil {
		return nil, err
	}
	return g, nil
}
