package tools

import (
	"cmp"
	"context"
	"encoding/json"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// ChainTool offers a chain of the same chatflow (the node wired into its baseChain input) as
// a tool named and described in the node. The chain does not run when the prediction starts
// (the plan defers it): each call runs it, here, with the tool's input as its question.
func (t *Tools) ChainTool() Tool {
	return Tool{Offer: offerChainTool, Run: t.runChainTool}
}

func offerChainTool(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	return []llm.Tool{{
		Name:        toolName(nodekit.ConfigString(e.Config, "name"), "chain_tool"),
		Description: cmp.Or(nodekit.ConfigString(e.Config, "description"), "Use this tool to run the chain"),
		Parameters:  json.RawMessage(`{"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}`),
	}}, nil
}

func (t *Tools) runChainTool(ctx context.Context, req node.ToolRequest) (string, error) {
	if req.Tool == nil {
		return "", nodekit.FlowError("chainTool runs only in a classic chatflow, with a chain wired into it")
	}
	id, _ := chatflow.InstanceRef(req.Tool.Config["baseChain"])
	chain := req.Tool.Upstream[id].Deferred
	if chain == nil {
		return "", nodekit.FlowError("chainTool %s: connect a chain to its Base Chain input", req.Tool.ID)
	}
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	input, _ := args["input"].(string)
	if t.RunChain == nil {
		return "", nodekit.FlowError("chainTool: chains cannot run here")
	}
	run := req.Run
	chainReq := *chain
	chainReq.AsTool = true
	chainReq.Run = node.Run{ChatflowID: run.ChatflowID, ChatID: run.ChatID, SessionID: run.SessionID, Question: input, Vars: run.Vars}
	out, err := t.RunChain(ctx, chainReq)
	if err != nil {
		return "", err
	}
	if out.Text == nil {
		return "", nodekit.FlowError("chainTool %s: chain %s gave no answer", req.Tool.ID, chain.Node.ID)
	}
	return *out.Text, nil
}
