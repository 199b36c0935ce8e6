package workflows_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"

	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestChatflowAgentLoop: the Tool Agent template's agent asks for the calculator, whose call
// fails once and is retried alone; the model turn that asked is not repeated, the tool nodes
// run no activity, and the saved answer carries the tool it used.
func TestChatflowAgentLoop(t *testing.T) {
	env, f := newEnv(t)
	var toolAttempts atomic.Int32
	var toolReq node.ToolRequest
	env.RegisterActivityWithOptions(func(ctx context.Context, req node.ToolRequest) (string, error) {
		toolReq = req
		if toolAttempts.Add(1) == 1 {
			return "", errors.New("worker lost")
		}
		return "42", nil
	}, activity.RegisterOptions{Name: node.ToolActivityName("calculator")})
	turns := 0
	f.override["toolAgent_0"] = func(_ context.Context, req node.Request) (node.Value, error) {
		turns++
		if len(req.Conversation) == 0 {
			require.NotNil(t, req.Upstream["calculator_1"].Tool, "the tool node's settings reach the agent")
			return node.Value{Kind: "toolAgent", Agent: &node.AgentTurn{
				Conversation: []node.Message{{Role: "user", Content: "6*7?"}, {Role: "assistant"}},
				ToolCalls:    []node.ToolCall{{ID: "call_0", Name: "calculator", Arguments: `{"input":"6*7"}`, Tool: "calculator", Entry: 0}},
			}}, nil
		}
		require.Equal(t, node.Message{Role: "tool", Content: "42", ToolCallID: "call_0"}, req.Conversation[len(req.Conversation)-1])
		return node.TextValue("toolAgent", "it is 42"), nil
	}
	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "marketplace/chatflows/Tool Agent.json")))
	require.NoError(t, env.GetWorkflowError())
	var res workflows.PredictionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "it is 42", res.Text)
	require.Equal(t, []node.UsedTool{{Tool: "calculator", ToolInput: map[string]any{"input": "6*7"}, ToolOutput: "42"}}, res.UsedTools)
	require.Equal(t, 2, turns, "the turn that asked for the tool ran once")
	require.Equal(t, int32(2), toolAttempts.Load(), "the failed call was retried alone")
	require.Equal(t, "calculator_1", toolReq.Tool.ID)
	var kinds []string
	for _, c := range f.nodeCalls() {
		kinds = append(kinds, c.Req.Node.Data.Name)
	}
	require.Equal(t, []string{"bufferMemory", "chatOpenAI", "toolAgent", "toolAgent"}, kinds)
	saves := f.saveCalls()
	require.Len(t, saves, 1)
	require.Equal(t, res.UsedTools, saves[0].Req.UsedTools)
}

// TestChatflowAgentStopsAtMaxIterations: an agent whose model asks for tools turn after turn
// answers as LangChain's agents do once its maxIterations are spent.
func TestChatflowAgentStopsAtMaxIterations(t *testing.T) {
	env, f := newEnv(t)
	env.RegisterActivityWithOptions(func(context.Context, node.ToolRequest) (string, error) { return "1", nil },
		activity.RegisterOptions{Name: node.ToolActivityName("calculator")})
	turns := 0
	f.override["toolAgent_0"] = func(context.Context, node.Request) (node.Value, error) {
		turns++
		return node.Value{Kind: "toolAgent", Agent: &node.AgentTurn{
			ToolCalls: []node.ToolCall{{ID: "c", Name: "calculator", Arguments: `{"input":"1"}`, Tool: "calculator", Entry: 0}},
		}}, nil
	}
	plan := loadPlan(t, "marketplace/chatflows/Tool Agent.json")
	for i, s := range plan.Steps {
		if s.Node.ID == "toolAgent_0" {
			plan.Steps[i].Node.Data.Inputs["maxIterations"] = "3"
		}
	}
	env.ExecuteWorkflow(workflows.Prediction, input(plan))
	require.NoError(t, env.GetWorkflowError())
	var res workflows.PredictionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "Agent stopped due to max iterations.", res.Text)
	require.Equal(t, 3, turns)
	require.Len(t, res.UsedTools, 3)
}
