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

// fakeSteps stands in for the agentflow activities and records which nodes ran.
type fakeSteps struct {
	mu    sync.Mutex
	ran   []string
	saves []node.SaveMessagesRequest
}

func (f *fakeSteps) register(env *testsuite.TestWorkflowEnvironment) {
	for _, kind := range []string{agentflow.KindStart, agentflow.KindHumanInput, agentflow.KindDirectReply} {
		env.RegisterActivityWithOptions(func(_ context.Context, req node.StepRequest) (node.StepResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.ran = append(f.ran, req.Node.ID)
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
