package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// loadPlan compiles one of the shared Flowise exports the way the API does.
func loadPlan(t *testing.T, file string) chatflow.Plan {
	t.Helper()
	raw := fixture.Read(t, "flows", file)
	g, err := chatflow.Parse(string(raw))
	require.NoError(t, err)
	p, err := chatflow.Compile(g, node.InChatflow)
	require.NoError(t, err)
	return *p
}

// nodeCall is one attempt of a node activity as the stub saw it.
type nodeCall struct {
	Req     node.Request
	Attempt int32
	Local   bool // ran as a local activity
}

type saveCall struct {
	Req     node.SaveMessagesRequest
	Attempt int32
}

type nodeFunc func(ctx context.Context, req node.Request) (node.Value, error)

// fakeNodes stands in for the activities package: every node kind and chat.saveMessages are
// registered under their real activity names, record what they receive and answer with a
// plausible value unless a test overrides a node (by id) or the save.
type fakeNodes struct {
	mu       sync.Mutex
	calls    []nodeCall
	saves    []saveCall
	override map[string]nodeFunc
	saveErr  func(attempt int32) error
}

func newFakeNodes(env *testsuite.TestWorkflowEnvironment) *fakeNodes {
	f := &fakeNodes{override: map[string]nodeFunc{}}
	for _, kind := range node.Names(node.ChatModel, node.ChatNode) {
		env.RegisterActivityWithOptions(f.run, activity.RegisterOptions{Name: node.ActivityName(kind)})
	}
	env.RegisterActivityWithOptions(f.save, activity.RegisterOptions{Name: node.SaveMessagesActivity})
	return f
}

func (f *fakeNodes) run(ctx context.Context, req node.Request) (node.Value, error) {
	f.mu.Lock()
	info := activity.GetInfo(ctx)
	f.calls = append(f.calls, nodeCall{Req: req, Attempt: info.Attempt, Local: info.IsLocalActivity})
	fn := f.override[req.Node.ID]
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, req)
	}
	return defaultValue(req), nil
}

func (f *fakeNodes) save(ctx context.Context, req node.SaveMessagesRequest) error {
	attempt := activity.GetInfo(ctx).Attempt
	f.mu.Lock()
	f.saves = append(f.saves, saveCall{Req: req, Attempt: attempt})
	fail := f.saveErr
	f.mu.Unlock()
	if fail != nil {
		return fail(attempt)
	}
	return nil
}

func (f *fakeNodes) nodeCalls() []nodeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]nodeCall(nil), f.calls...)
}

func (f *fakeNodes) saveCalls() []saveCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]saveCall(nil), f.saves...)
}

func (f *fakeNodes) attemptsOf(id string) []int32 {
	var out []int32
	for _, c := range f.nodeCalls() {
		if c.Req.Node.ID == id {
			out = append(out, c.Attempt)
		}
	}
	return out
}

// defaultValue is what the real node of that kind would hand on, made recognisable per node.
func defaultValue(req node.Request) node.Value {
	n := req.Node
	switch n.Data.Category {
	case chatflow.CategoryChatModels:
		return node.Value{Kind: n.Data.Name, Model: &node.Model{
			Provider: n.Data.Name, CredentialID: "cred-" + n.ID,
			Config: json.RawMessage(`{"provider":"` + n.Data.Name + `","model":"m"}`), Streaming: true,
		}}
	case chatflow.CategoryMemory:
		return node.Value{Kind: n.Data.Name, Memory: &node.Memory{
			Label: n.Data.Label, SessionID: req.Run.SessionID, MemoryKey: "chat_history",
			Messages: []node.Message{{Role: "userMessage", Content: "earlier"}},
		}}
	case chatflow.CategoryChains:
		return node.TextValue(n.Data.Name, "answer from "+n.ID+" to "+req.Run.Question)
	default:
		return node.Value{Kind: n.Data.Name, Prompt: &node.Prompt{Template: "template of " + n.ID}}
	}
}

// startTime is the runs' workflow time. It lies ahead of the wall clock: the test
// environment gives a retried local activity a deadline in workflow time but checks it
// against the wall clock, so a start in the past would time every retry out at once.
var startTime = time.Date(2036, 3, 4, 5, 6, 7, 0, time.UTC)

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeNodes) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(startTime)
	env.SetTestTimeout(30 * time.Second)
	return env, newFakeNodes(env)
}

func input(plan chatflow.Plan) workflows.PredictionInput {
	return workflows.PredictionInput{
		Plan: plan,
		Run: node.Run{
			ChatflowID: "flow-1", ChatID: "chat-1", SessionID: "session-1", Question: "what is up?",
			Vars: map[string]string{"tone": "dry"},
		},
		ChatType:  "EXTERNAL",
		LeadEmail: "lead@example.com",
		Version:   node.PredictionVersion,
	}
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	return app
}

// requireUpstreamIsNeeds checks that each node received exactly the results of the nodes its
// step Needs, each being what that node returned.
func requireUpstreamIsNeeds(t *testing.T, plan chatflow.Plan, calls []nodeCall) {
	t.Helper()
	require.Len(t, calls, len(plan.Steps))
	returned := map[string]node.Value{}
	for i, step := range plan.Steps {
		c := calls[i]
		require.Equal(t, step.Node.ID, c.Req.Node.ID)
		planned, err := json.Marshal(step.Node)
		require.NoError(t, err)
		got, err := json.Marshal(c.Req.Node)
		require.NoError(t, err)
		require.JSONEq(t, string(planned), string(got), "the node is passed as planned")
		var keys []string
		for id, v := range c.Req.Upstream {
			keys = append(keys, id)
			require.Equal(t, returned[id], v, "%s gets %s's result", step.Node.ID, id)
		}
		require.ElementsMatch(t, step.Needs, keys, "%s upstream", step.Node.ID)
		returned[step.Node.ID] = defaultValue(c.Req)
	}
}

func TestPredictionRunsLLMChainInOrderAndSavesTurn(t *testing.T) {
	env, fake := newEnv(t)
	plan := loadPlan(t, "llm-chain.json")
	in := input(plan)

	env.ExecuteWorkflow(workflows.Prediction, in)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.PredictionResult
	require.NoError(t, env.GetWorkflowResult(&res))

	calls := fake.nodeCalls()
	var order []string
	for _, c := range calls {
		order = append(order, c.Req.Node.ID)
		require.Equal(t, in.Run, c.Req.Run, "every node sees the run of the request")
		require.Equal(t, c.Req.Node.ID == "llmChain_0", c.Req.Ending, "only the ending node is Ending (%s)", c.Req.Node.ID)
		require.EqualValues(t, 1, c.Attempt)
	}
	require.Equal(t, []string{"chatOpenAI_0", "promptTemplate_0", "llmChain_0"}, order)
	require.Equal(t, "llmChain_0", plan.Ending)
	requireUpstreamIsNeeds(t, plan, calls)

	// Nodes without sources get no upstream; the chain gets exactly what its sources returned.
	require.Nil(t, calls[0].Req.Upstream)
	require.Nil(t, calls[1].Req.Upstream)
	require.Equal(t, map[string]node.Value{
		"chatOpenAI_0":     defaultValue(calls[0].Req),
		"promptTemplate_0": defaultValue(calls[1].Req),
	}, calls[2].Req.Upstream)

	require.Equal(t, "answer from llmChain_0 to what is up?", res.Text)
	require.Empty(t, res.MemoryType)

	saves := fake.saveCalls()
	require.Len(t, saves, 1)
	s := saves[0].Req
	require.NotEmpty(t, s.APIMessageID)
	require.NotEmpty(t, s.UserMessageID)
	require.NotEqual(t, s.UserMessageID, s.APIMessageID)
	require.Equal(t, s.APIMessageID, res.ChatMessageID, "chatMessageId is the stored answer's id")
	require.Equal(t, "flow-1", s.ChatflowID)
	require.Equal(t, "chat-1", s.ChatID)
	require.Equal(t, "what is up?", s.Question)
	require.Equal(t, res.Text, s.Answer)
	require.Equal(t, "EXTERNAL", s.ChatType)
	require.Equal(t, "lead@example.com", s.LeadEmail)
	require.Equal(t, startTime.UnixMilli(), s.UserAt, "the question is stamped with workflow time")
	require.Greater(t, s.APIAt, s.UserAt, "the answer sorts after the question")
}

func TestPredictionConversationChainReportsMemory(t *testing.T) {
	env, fake := newEnv(t)
	plan := loadPlan(t, "conversation-chain.json")
	in := input(plan)
	in.Run.SessionID = "session-42"

	env.ExecuteWorkflow(workflows.Prediction, in)

	require.NoError(t, env.GetWorkflowError())
	var res workflows.PredictionResult
	require.NoError(t, env.GetWorkflowResult(&res))

	calls := fake.nodeCalls()
	require.Len(t, calls, 3)
	require.Equal(t, "chatOpenAI_0", calls[0].Req.Node.ID)
	require.Equal(t, "bufferMemory_0", calls[1].Req.Node.ID)
	require.Equal(t, "conversationChain_0", calls[2].Req.Node.ID)
	requireUpstreamIsNeeds(t, plan, calls)
	require.True(t, calls[2].Req.Ending)
	require.Contains(t, calls[2].Req.Upstream, "bufferMemory_0")
	require.Contains(t, calls[2].Req.Upstream, "chatOpenAI_0")
	require.Equal(t, defaultValue(calls[1].Req), calls[2].Req.Upstream["bufferMemory_0"])

	require.Equal(t, "session-42", res.SessionID)
	require.Equal(t, "Buffer Memory", res.MemoryType)
	require.Equal(t, "answer from conversationChain_0 to what is up?", res.Text)

	saves := fake.saveCalls()
	require.Len(t, saves, 1)
	s := saves[0].Req
	require.Equal(t, "session-42", s.SessionID)
	require.Equal(t, "Buffer Memory", s.MemoryType)
	require.Equal(t, "what is up?", s.Question)
	require.Equal(t, res.Text, s.Answer)
	require.Equal(t, s.APIMessageID, res.ChatMessageID)
}

func TestPredictionNonRetryableNodeFailureFailsWithoutSaving(t *testing.T) {
	env, fake := newEnv(t)
	fake.override["llmChain_0"] = func(context.Context, node.Request) (node.Value, error) {
		return node.Value{}, temporal.NewNonRetryableApplicationError("chatOpenAI: 401 invalid api key", node.ErrProvider, nil)
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	app := appError(t, err)
	require.Equal(t, "llmChain_0 (llmChain): chatOpenAI: 401 invalid api key", app.Message())
	require.Equal(t, node.ErrProvider, app.Type())
	require.True(t, app.NonRetryable())
	require.Equal(t, []int32{1}, fake.attemptsOf("llmChain_0"), "a non-retryable failure is not retried")
	require.Empty(t, fake.saveCalls(), "a failed run leaves no half-written conversation")
}

func TestPredictionFlowErrorTypeIsNotRetriedEvenIfMarkedRetryable(t *testing.T) {
	env, fake := newEnv(t)
	fake.override["promptTemplate_0"] = func(context.Context, node.Request) (node.Value, error) {
		// Retryable flag left on: the workflow's retry policy must still refuse the type.
		return node.Value{}, temporal.NewApplicationError("Please provide Prompt Values for: topic", node.ErrFlow)
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	app := appError(t, env.GetWorkflowError())
	require.Equal(t, "promptTemplate_0 (promptTemplate): Please provide Prompt Values for: topic", app.Message())
	require.Equal(t, node.ErrFlow, app.Type())
	require.Equal(t, []int32{1}, fake.attemptsOf("promptTemplate_0"))
	require.Empty(t, fake.attemptsOf("llmChain_0"), "nodes after the failing one do not run")
	require.Empty(t, fake.saveCalls())
}

func TestPredictionRetriesRetryableNodeFailure(t *testing.T) {
	env, fake := newEnv(t)
	fake.override["llmChain_0"] = func(ctx context.Context, req node.Request) (node.Value, error) {
		if activity.GetInfo(ctx).Attempt == 1 {
			return node.Value{}, temporal.NewApplicationError("chatOpenAI: provider answered 500", "ProviderUnavailable")
		}
		return node.TextValue("llmChain", "second time lucky"), nil
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	require.NoError(t, env.GetWorkflowError())
	var res workflows.PredictionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "second time lucky", res.Text)
	require.Equal(t, []int32{1, 2}, fake.attemptsOf("llmChain_0"))
	require.Equal(t, []int32{1}, fake.attemptsOf("chatOpenAI_0"), "earlier nodes are not run again")
	saves := fake.saveCalls()
	require.Len(t, saves, 1)
	require.Equal(t, "second time lucky", saves[0].Req.Answer)
}

func TestPredictionGivesUpAfterMaximumAttempts(t *testing.T) {
	env, fake := newEnv(t)
	fake.override["llmChain_0"] = func(context.Context, node.Request) (node.Value, error) {
		return node.Value{}, temporal.NewApplicationError("chatOpenAI: provider answered 503", "ProviderUnavailable")
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	app := appError(t, env.GetWorkflowError())
	require.Equal(t, "llmChain_0 (llmChain): chatOpenAI: provider answered 503", app.Message())
	require.True(t, app.NonRetryable(), "the workflow's own failure is final")
	require.Equal(t, []int32{1, 2, 3, 4}, fake.attemptsOf("llmChain_0"))
	require.Empty(t, fake.saveCalls())
}

func TestPredictionCanceledDuringNodeSavesNothing(t *testing.T) {
	env, fake := newEnv(t)
	release := make(chan struct{})
	defer close(release)
	fake.override["llmChain_0"] = func(ctx context.Context, _ node.Request) (node.Value, error) {
		env.CancelWorkflow() // the client aborts while the model is answering
		select {
		case <-ctx.Done():
			return node.Value{}, ctx.Err()
		case <-release:
			return node.TextValue("llmChain", "too late"), nil
		}
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	require.True(t, temporal.IsCanceledError(err), "want a cancellation, got %v", err)
	require.Equal(t, []int32{1}, fake.attemptsOf("llmChain_0"))
	require.Empty(t, fake.saveCalls(), "a canceled run stores no messages")
}

func TestPredictionEndingNodeWithoutTextFails(t *testing.T) {
	env, fake := newEnv(t)
	fake.override["llmChain_0"] = func(context.Context, node.Request) (node.Value, error) {
		return node.Value{Kind: "llmChain"}, nil
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	app := appError(t, env.GetWorkflowError())
	require.Equal(t, "ending node llmChain_0 produced no answer", app.Message())
	require.Equal(t, node.ErrFlow, app.Type())
	require.True(t, app.NonRetryable())
	require.Empty(t, fake.saveCalls())
}

func TestPredictionRetriedSaveReusesMessageIDs(t *testing.T) {
	env, fake := newEnv(t)
	// The test environment checks a retried local activity's deadline against the wall clock,
	// so the mock clock must not start in the past for the retry to be allowed to run.
	env.SetStartTime(time.Now())
	fake.saveErr = func(attempt int32) error {
		if attempt == 1 {
			return errors.New("database is locked")
		}
		return nil
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	require.NoError(t, env.GetWorkflowError())
	var res workflows.PredictionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	saves := fake.saveCalls()
	require.Len(t, saves, 2)
	require.Equal(t, int32(2), saves[1].Attempt)
	require.Equal(t, saves[0].Req, saves[1].Req, "a retried save writes the same rows")
	require.Equal(t, saves[1].Req.APIMessageID, res.ChatMessageID)
}

func TestPredictionSaveFailureFailsRun(t *testing.T) {
	env, fake := newEnv(t)
	fake.saveErr = func(int32) error {
		return temporal.NewNonRetryableApplicationError("disk full", node.ErrFlow, nil)
	}

	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))

	err := env.GetWorkflowError()
	require.Error(t, err)
	require.ErrorContains(t, err, "The answer could not be saved")
	require.ErrorContains(t, err, "disk full")
	require.Len(t, fake.saveCalls(), 1)
}

// TestPredictionPlacesNodesByItsVersion: a run started for the current version runs every node
// locally, its model call too (one workflow task); a run whose input names no version (started
// before) chooses by its marker, and runs the model call as a regular activity.
func TestPredictionPlacesNodesByItsVersion(t *testing.T) {
	for _, c := range []struct {
		version   int
		callLocal bool
	}{{node.PredictionVersion, true}, {0, false}} {
		env, fake := newEnv(t)
		in := input(loadPlan(t, "llm-chain.json"))
		in.Version = c.version
		env.ExecuteWorkflow(workflows.Prediction, in)
		require.NoError(t, env.GetWorkflowError())
		local := map[string]bool{}
		for _, call := range fake.nodeCalls() {
			local[call.Req.Node.ID] = call.Local
		}
		require.Equal(t, map[string]bool{"chatOpenAI_0": true, "promptTemplate_0": true, "llmChain_0": c.callLocal}, local, "version %d", c.version)
	}
}

// TestPredictionAbortedCallEndsCanceled: a model call running inside the workflow task that is
// stopped by the run's abort (it reaches the call before Temporal's cancellation does) ends
// the run canceled once the cancellation arrives, and nothing is saved.
func TestPredictionAbortedCallEndsCanceled(t *testing.T) {
	env, fake := newEnv(t)
	fake.override["llmChain_0"] = func(context.Context, node.Request) (node.Value, error) {
		return node.Value{}, temporal.NewNonRetryableApplicationError("the prediction was aborted", node.ErrAborted, nil)
	}
	// The cancellation the API recorded first reaches the run in its next task.
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
	env.ExecuteWorkflow(workflows.Prediction, input(loadPlan(t, "llm-chain.json")))
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "want a cancellation, got %v", env.GetWorkflowError())
	require.Equal(t, []int32{1}, fake.attemptsOf("llmChain_0"), "an aborted call is not retried")
	require.Empty(t, fake.saveCalls())
}
