package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// chatRun is a chatflow run's plan, request and the nodes' results so far, which its agents
// share.
type chatRun struct {
	plan    chatflow.Plan
	run     node.Run
	depth   int // as PredictionInput.Depth
	results map[string]node.Value
	nodes   placement
	runID   string
	// flowTools counts the flow tool calls so far: each one's child workflow gets its own id.
	flowTools int
}

// agentAnswer is a chatflow agent's answer and what Flowise reports with it.
type agentAnswer struct {
	text    string
	used    []node.UsedTool
	sources []any
}

// defaultMaxIterations is LangChain's AgentExecutor's bound on an agent's turns, which
// Flowise's agents keep when maxIterations is empty.
const defaultMaxIterations = 15

// stoppedAnswer is what LangChain's agents answer when their turns run out.
const stoppedAnswer = "Agent stopped due to max iterations."

// runAgent runs a classic chatflow agent (toolAgent, conversationalAgent, …) in the shared
// durable loop (agentLoop): each model turn is the agent's node.<kind> activity, each tool
// call the tool's tool.<kind> activity (a flow tool's flow a child workflow).
func (c *chatRun) runAgent(ctx workflow.Context, step chatflow.Step, req node.Request) (agentAnswer, error) {
	var ans agentAnswer
	toolIDs := step.Node.ToolIDs()
	used, direct, err := agentLoop(maxIterations(step.Node),
		func(conversation []node.Message) (agentTurn, error) {
			req.Conversation = conversation
			var out node.Value
			// Each turn is recorded as it ends: a regular activity whatever the placement.
			if err := runNode(ctx, step.Node, req, min(c.nodes, quickLocal)).Get(ctx, &out); err != nil {
				return agentTurn{}, err
			}
			if out.Agent != nil {
				return agentTurn{conversation: out.Agent.Conversation, calls: out.Agent.ToolCalls}, nil
			}
			if out.Text == nil {
				return agentTurn{}, temporal.NewNonRetryableApplicationError("the agent gave no answer", node.ErrFlow, nil)
			}
			ans.text = *out.Text
			return agentTurn{}, nil
		},
		func(call node.ToolCall) (string, bool, error) {
			if call.Refused != "" {
				// No tool ran: not a used tool. The model reads what LangChain's agents say.
				return fmt.Sprintf("%s is not a valid tool, try another one.", call.Name), false, nil
			}
			out, failed, err := c.callTool(ctx, step.Node, toolIDs, call)
			if err != nil {
				return "", false, err
			}
			used := node.UsedTool{Tool: call.Name, ToolInput: toolInput(call.Arguments), ToolOutput: out}
			if failed {
				used.ToolOutput, used.Error = "", out
			}
			// A tool that found documents appends them to its text; the model reads the text.
			if text, docs, found := strings.Cut(out, agentflow.SourceDocumentsPrefix); found && !failed {
				var list []any
				if json.Unmarshal([]byte(docs), &list) == nil {
					ans.sources = append(ans.sources, list...)
				}
				out, used.ToolOutput = text, text
			}
			ans.used = append(ans.used, used)
			return out, call.ReturnDirect && !failed, nil
		})
	switch {
	case errors.Is(err, errAgentTurns):
		ans.text = stoppedAnswer
	case err != nil:
		return agentAnswer{}, err
	case direct:
		ans.text = used[len(used)-1].out
	}
	return ans, nil
}

// callTool runs one call of a chatflow agent's tool and returns what the model reads back;
// failed says the tool refused the call (a misuse the model can correct, or a setting the
// flow lacks), whose message the model reads instead.
func (c *chatRun) callTool(ctx workflow.Context, agent chatflow.Node, toolIDs []string, call node.ToolCall) (string, bool, error) {
	if call.Entry < 0 || call.Entry >= len(toolIDs) {
		return fmt.Sprintf("%s is not a valid tool, try another one.", call.Name), true, nil
	}
	tool := c.results[toolIDs[call.Entry]].Tool
	if tool == nil {
		return "", false, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s is not a tool", toolIDs[call.Entry]), node.ErrFlow, nil)
	}
	run := c.run
	toolReq := node.ToolRequest{
		Node: agentflow.Node{ID: agent.ID, Kind: agent.Data.Name, Label: agent.Data.Label},
		Call: call, Tool: tool,
		Run: node.AgentflowRun{ChatflowID: run.ChatflowID, ChatID: run.ChatID, SessionID: run.SessionID, Question: run.Question, Vars: run.Vars},
	}
	tctx := workflow.WithActivityOptions(ctx, modelCallOptions)
	var out string
	var err error
	if node.Is(call.Kind(), node.FlowTool) {
		var child node.ChildFlow
		if err = workflow.ExecuteActivity(tctx, call.ActivityName(), toolReq).Get(ctx, &child); err == nil {
			key := node.FlowToolKey(agent.ID, c.flowTools)
			c.flowTools++
			out, err = runFlow(ctx, flowParent{depth: c.depth, vars: run.Vars, runID: c.runID}, key, node.FlowToolChatID(key), &child)
		}
	} else {
		err = workflow.ExecuteActivity(tctx, call.ActivityName(), toolReq).Get(ctx, &out)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == node.ErrFlow {
		return app.Message(), true, nil
	}
	return out, false, err
}

// toolNodeValue is a chatflow tool node as its agent uses it: its inputs, its credential and
// the values of the nodes wired into it.
func toolNodeValue(n chatflow.Node, upstream map[string]node.Value) node.Value {
	cfg := make(map[string]any, len(n.Data.Inputs)+1)
	for k, v := range n.Data.Inputs {
		cfg[k] = v
	}
	if n.Data.Credential != "" {
		cfg["credential"] = n.Data.Credential
	}
	return node.Value{Kind: n.Data.Name, Tool: &node.ToolNode{ID: n.ID, Kind: n.Data.Name, Config: cfg, Upstream: upstream}}
}

// maxIterations is the agent's maxIterations input, or LangChain's default, at most
// mostIterations.
func maxIterations(n chatflow.Node) int {
	if v, err := strconv.ParseFloat(strings.TrimSpace(n.Input("maxIterations")), 64); err == nil && v >= 1 {
		return int(min(v, mostIterations))
	}
	return defaultMaxIterations
}

// mostIterations bounds any agent's turns in one prediction: each turn and tool call is a
// record in the run's history, which Temporal caps, and a model that never stops asking for
// tools would otherwise run up a bill until then.
const mostIterations = 100

// toolInput is a call's arguments as Flowise reports them: the JSON object the model wrote,
// or its text when it is not one.
func toolInput(arguments string) any {
	var v map[string]any
	if json.Unmarshal([]byte(arguments), &v) == nil {
		return v
	}
	return arguments
}
