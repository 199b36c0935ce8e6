package workflows_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// approvalGraph: Start → Human input → (proceed) Direct reply | (reject) nothing.
func approvalGraph(t *testing.T) agentflow.Graph {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"nodes": []any{
			map[string]any{"id": "startAgentflow_0", "data": map[string]any{"name": "startAgentflow", "label": "Start"}},
			map[string]any{"id": "humanInputAgentflow_0", "data": map[string]any{"name": "humanInputAgentflow", "label": "Approve"}},
			map[string]any{"id": "directReplyAgentflow_0", "data": map[string]any{"name": "directReplyAgentflow", "label": "Send"}},
		},
		"edges": []any{
			map[string]any{"source": "startAgentflow_0", "sourceHandle": "startAgentflow_0-output-startAgentflow", "target": "humanInputAgentflow_0"},
			map[string]any{"source": "humanInputAgentflow_0", "sourceHandle": "humanInputAgentflow_0-output-0", "target": "directReplyAgentflow_0"},
		},
	})
	require.NoError(t, err)
	g, err := agentflow.Parse(string(raw))
	require.NoError(t, err)
	return *g
}

// fakeSteps stands in for the agentflow activities and records which nodes ran, with the
// chat history each one got. A node of results answers with its result there.
type fakeSteps struct {
	mu        sync.Mutex
	ran       []string
	histories map[string][]node.Message
	saves     []node.SaveMessagesRequest
	results   map[string]node.StepResult
}

func (f *fakeSteps) register(env *testsuite.TestWorkflowEnvironment) {
	f.histories = map[string][]node.Message{}
	for _, kind := range []string{agentflow.KindStart, agentflow.KindHumanInput, agentflow.KindDirectReply} {
		env.RegisterActivityWithOptions(func(_ context.Context, req node.StepRequest) (node.StepResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.ran = append(f.ran, req.Node.ID)
			f.histories[req.Node.ID] = req.ChatHistory
			if res, ok := f.results[req.Node.ID]; ok {
				return res, nil
			}
			return node.StepResult{Output: map[string]any{"content": "out of " + req.Node.ID}}, nil
		}, activity.RegisterOptions{Name: node.ActivityName(kind)})
	}
	env.RegisterActivityWithOptions(func(_ context.Context, req node.SaveMessagesRequest) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.saves = append(f.saves, req)
		return nil
	}, activity.RegisterOptions{Name: node.SaveMessagesActivity})
}

// TestAgentflowParkedForDaysResumes: a run waits ten days (skipped by the test clock) for its
// human input, then continues from that node without running the nodes before it again; an
// answer while nothing waits is refused by the validator.
func TestAgentflowParkedForDaysResumes(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Now())
	env.SetTestTimeout(30 * time.Second)
	f := &fakeSteps{}
	f.register(env)

	var early, answered error
	accepted := false
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(node.HumanInputUpdate, "malformed", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { early = err },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.HumanInput{Type: "later"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(node.HumanInputUpdate, "answer", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { answered = err },
			OnAccept:   func() { accepted = true },
			OnComplete: func(any, error) {},
		}, workflows.HumanInput{Type: "proceed", Feedback: "go"})
	}, 10*24*time.Hour)

	env.ExecuteWorkflow(workflows.Agentflow, workflows.AgentflowInput{
		Graph: approvalGraph(t),
		Run:   node.AgentflowRun{ChatflowID: "flow", ChatID: "chat", SessionID: "chat", Question: "send it?"},
	})

	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, early, `humanInput.type must be "proceed" or "reject"`)
	require.NoError(t, answered)
	require.True(t, accepted)
	var res workflows.AgentflowResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "out of directReplyAgentflow_0", res.Text)
	require.Equal(t, []string{"startAgentflow_0", "humanInputAgentflow_0", "directReplyAgentflow_0"}, f.ran, "each node once")
	require.Len(t, f.saves, 2, "the stopped turn and the answered one")
	require.NotEmpty(t, f.saves[0].Action)
	require.Equal(t, "go", f.saves[1].Question)
	require.NotEqual(t, f.saves[0].APIMessageID, f.saves[1].APIMessageID)
}

// TestAgentflowFeedbackReachesTheNodesAfterHumanInput: as in Flowise, where the answer is a
// new request with a chat history of its own, the nodes after a human input see the
// reviewer's feedback as the user's words, and not again the messages before the stop (the
// session's saved messages hold those now). The action carries the node's input, which
// tells the widget whether to offer a feedback box.
func TestAgentflowFeedbackReachesTheNodesAfterHumanInput(t *testing.T) {
	for name, feedback := range map[string]string{"with feedback": "make it shorter", "without": ""} {
		t.Run(name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			f := &fakeSteps{results: map[string]node.StepResult{
				"startAgentflow_0": {Output: map[string]any{"content": "send it?"},
					ChatHistory: []node.Message{{Role: "user", Content: "send it?"}, {Role: "user", Content: "the draft"}}},
				"humanInputAgentflow_0": {Output: map[string]any{"content": "the draft\n\nSend it?"},
					Input: map[string]any{"humanInputEnableFeedback": true}},
			}}
			f.register(env)
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(node.HumanInputUpdate, "answer", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { require.NoError(t, err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
				}, workflows.HumanInput{Type: "proceed", Feedback: feedback})
			}, time.Minute)

			env.ExecuteWorkflow(workflows.Agentflow, workflows.AgentflowInput{
				Graph: approvalGraph(t),
				Run:   node.AgentflowRun{ChatflowID: "flow", ChatID: "chat", SessionID: "chat", Question: "send it?"},
			})

			require.NoError(t, env.GetWorkflowError())
			require.Len(t, f.histories["humanInputAgentflow_0"], 2, "the human input node sees the draft")
			var want []node.Message
			if feedback != "" {
				want = []node.Message{{Role: "user", Content: feedback}}
			}
			require.Equal(t, want, f.histories["directReplyAgentflow_0"])
			require.Len(t, f.saves, 2)
			require.Equal(t, "the draft\n\nSend it?", f.saves[0].Answer)
			var action workflows.Action
			require.NoError(t, json.Unmarshal(f.saves[0].Action, &action))
			require.Equal(t, map[string]any{"humanInputEnableFeedback": true}, action.Data["input"])
		})
	}
}
