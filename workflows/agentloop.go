package workflows

import (
	"errors"

	"github.com/flowgate/flowgate/workflows/node"
)

// The durable agent loop, shared by agentflow Agent nodes (runStepWithTools) and classic
// chatflow agents (runChatAgent): each model turn is one activity, each tool call another, so
// a worker that dies repeats at most the step it was running; a finished turn or call is in
// the history and is never run again.

// agentTurn is what the loop needs of one model turn: the conversation so far and the calls
// the model asked for (none: it answered).
type agentTurn struct {
	conversation []node.Message
	calls        []node.ToolCall
}

// toolResult is one call the loop ran and what the model read back.
type toolResult struct {
	call node.ToolCall
	out  string
}

// errAgentTurns: the model asked for tools in every turn it had.
var errAgentTurns = errors.New("the agent did not answer within its turns")

// agentLoop gives the agent turns until its model answers. turn runs a model turn with the
// conversation so far (nil on the first); call runs one tool call and returns what the model
// reads, and whether that is the agent's answer (a tool that returns directly). It returns
// the calls run, in order, and whether the last one's output is the answer; errAgentTurns
// when the model still asked for tools after maxTurns turns.
func agentLoop(maxTurns int, turn func(conversation []node.Message) (agentTurn, error),
	call func(node.ToolCall) (out string, direct bool, err error)) (used []toolResult, direct bool, err error) {
	var conversation []node.Message
	for range maxTurns {
		t, err := turn(conversation)
		if err != nil {
			return used, false, err
		}
		if len(t.calls) == 0 {
			return used, false, nil
		}
		conversation = t.conversation
		for _, c := range t.calls {
			out, direct, err := call(c)
			if err != nil {
				return used, false, err
			}
			conversation = append(conversation, node.Message{Role: "tool", Content: out, ToolCallID: c.ID})
			used = append(used, toolResult{call: c, out: out})
			if direct {
				return used, true, nil
			}
		}
	}
	return used, false, errAgentTurns
}
