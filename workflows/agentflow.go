package workflows

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// AgentflowInput is the immutable snapshot an agentflow run works from.
type AgentflowInput struct {
	Graph       agentflow.Graph   `json:"graph"`
	Run         node.AgentflowRun `json:"run"`
	ChatType    string            `json:"chatType,omitempty"`
	LeadEmail   string            `json:"leadEmail,omitempty"`
	FileUploads string            `json:"fileUploads,omitempty"`
	// Depth counts the flows that run this one (Execute Flow nodes, flow tools); 0 for a
	// prediction's own run.
	Depth int `json:"depth,omitempty"`
}

// maxFlowDepth bounds flows running flows, so that two flows calling each other fail clearly
// instead of running forever.
const maxFlowDepth = 5

// AgentflowResult is the answer of an agentflow run.
type AgentflowResult struct {
	Text          string              `json:"text"`
	ChatMessageID string              `json:"chatMessageId"`
	Executed      []node.ExecutedNode `json:"agentFlowExecutedData"`
}

// HumanInput answers a stopped run: Flowise's humanInput body, plus the topic of the request
// that resumes it (where the rest of the run's events go).
type HumanInput struct {
	Type        string `json:"type"` // "proceed" or "reject"
	StartNodeID string `json:"startNodeId,omitempty"`
	Feedback    string `json:"feedback,omitempty"`
	Topic       string `json:"topic,omitempty"`
	Stream      bool   `json:"stream,omitempty"`
}

// Action is what a stopped run asks of the user, in Flowise's shape.
type Action struct {
	ID       string            `json:"id"`
	Mapping  map[string]string `json:"mapping"`
	Elements []map[string]any  `json:"elements"`
	Data     map[string]any    `json:"data"`
}

// Agentflow runs an AGENTFLOW: nodes in the order the schedule allows, one activity each;
// decision nodes choose the branches that run, loop nodes jump back a bounded number of times.
// At a human input node the run saves the turn with an action and parks (costing nothing)
// until a later prediction of the same chat answers it through node.HumanInputUpdate; it then goes
// on from that node, never running a finished node again. The answer is the output of the
// last node that ran.
func Agentflow(ctx workflow.Context, in AgentflowInput) (AgentflowResult, error) {
	if err := node.CheckAgentflow(&in.Graph); err != nil {
		return AgentflowResult{}, temporal.NewNonRetryableApplicationError(err.Error(), node.ErrFlow, nil)
	}
	r := &agentRun{in: in, g: &in.Graph, state: map[string]any{}, outputs: map[string]map[string]any{},
		question: in.Run.Question, userAt: workflow.Now(ctx), runID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	r.startedAt = r.userAt
	r.s = r.g.NewSchedule("")
	if err := r.handleHumanInput(ctx); err != nil {
		return AgentflowResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, node.ExecutedQuery, func() ([]node.ExecutedNode, error) {
		if r.parked != nil {
			return append(slices.Clone(r.executed), r.parked.item), nil
		}
		return r.executed, nil
	}); err != nil {
		return AgentflowResult{}, fmt.Errorf("register query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, node.HumanInputQuery, func() (HumanInputState, error) {
		return HumanInputState{RunID: r.runID, Waiting: r.parked != nil, Answered: r.answered}, nil
	}); err != nil {
		return AgentflowResult{}, fmt.Errorf("register query: %w", err)
	}
	if err := r.runAll(ctx); err != nil {
		return AgentflowResult{}, err
	}
	text, _ := r.outputs[r.last]["content"].(string)
	id, err := r.saveTurn(ctx, text, nil)
	if err != nil {
		return AgentflowResult{}, err
	}
	return AgentflowResult{Text: text, ChatMessageID: id, Executed: r.executed}, nil
}

// runAll runs the scope's nodes until none can run.
func (r *agentRun) runAll(ctx workflow.Context) error {
	for ready := r.s.Ready(); len(ready) > 0; ready = r.s.Ready() {
		if err := r.runFrom(ctx, ready[0]); err != nil {
			return err
		}
	}
	return nil
}

// agentRun is the state of one agentflow run, or of one item of an iteration.
type agentRun struct {
	runID string
	// iteration is the current item when this run is one item of an iteration node.
	iteration any
	in        AgentflowInput
	g         *agentflow.Graph
	s         *agentflow.Schedule
	state     map[string]any
	outputs   map[string]map[string]any
	executed  []node.ExecutedNode
	last      string
	// flowTools counts the flow tool calls so far: each one's child workflow gets its own id.
	flowTools int
	// chatHistory is the run's own conversation, which nodes with memory see (Flowise's
	// runtime chat history).
	chatHistory []node.Message

	// The current turn: a run that stops for human input saves a turn and starts another.
	turn      int
	question  string
	startedAt time.Time
	userAt    time.Time

	parked *parkedAt   // the human input node the run waits at
	answer *HumanInput // the answer it got
	// answered are the update ids of the answers the run took, in order: a resent answer is
	// told from a second, identical answer by them (see HumanInputState).
	answered []string
}

// HumanInputState is what the API asks a run before it sends a human-input answer: whether it
// waits for one now, and which answers it took.
type HumanInputState struct {
	RunID    string   `json:"runId"`
	Waiting  bool     `json:"waiting"`
	Answered []string `json:"answered,omitempty"`
}

type parkedAt struct {
	nodeID, actionID string
	item             node.ExecutedNode // the stopped node, as agentFlowExecutedData shows it
}

// handleHumanInput registers the Update that answers a stopped run. Its validator refuses,
// without changing anything, an answer when nothing waits (a late or duplicate answer), a
// malformed one, or one meant for another node.
func (r *agentRun) handleHumanInput(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, node.HumanInputUpdate,
		func(ctx workflow.Context, in HumanInput) error {
			r.answer, r.parked = &in, nil
			// Only the run's memory changes (no command), so runs recorded before this line
			// replay as they were.
			r.answered = append(r.answered, workflow.GetCurrentUpdateInfo(ctx).ID)
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in HumanInput) error {
			switch {
			case r.parked == nil:
				return errors.New("this conversation is not waiting for human input")
			case in.Type != "proceed" && in.Type != "reject":
				return fmt.Errorf(`humanInput.type must be "proceed" or "reject", got %q`, in.Type)
			case in.StartNodeID != "" && in.StartNodeID != r.parked.nodeID:
				return fmt.Errorf("the run waits for human input at %s, not at %s", r.parked.nodeID, in.StartNodeID)
			}
			return nil
		}})
}

// runFrom runs a ready node and, when it is a loop that jumps back, the nodes it jumps to.
func (r *agentRun) runFrom(ctx workflow.Context, id string) error {
	r.s.Start(id)
	for {
		n, _ := r.g.Node(id)
		item := node.ExecutedNode{NodeID: id, NodeLabel: n.Label, PreviousNodeIDs: r.g.Parents(id),
			Status: node.StatusFinished, Data: node.ExecutedData{ID: id, Name: n.Kind}}
		if n.Kind == agentflow.KindLoop {
			target, again := r.s.LoopBack(id)
			if again {
				item.Data.Output = map[string]any{"content": "", "nextNode": target}
				r.executed = append(r.executed, item)
				id = target
				continue
			}
			// Out of turns: the loop answers with its fallback message and its path ends.
			r.finish(id, item, node.StepResult{Output: map[string]any{"content": n.Input("fallbackMessage")}})
			return nil
		}
		req := node.StepRequest{Node: n, Run: r.in.Run, State: r.state, Outputs: r.outputs,
			Ending: r.g.IsEnding(id) && n.Parent == "", Iteration: r.iteration, ChatHistory: r.chatHistory}
		req.Run.Question = r.question
		var res node.StepResult
		if err := r.runStepWithTools(ctx, n, item, req, &res); err != nil {
			return nodeFailed(n, err)
		}
		switch n.Kind {
		case agentflow.KindHumanInput:
			if r.iteration != nil {
				return nodeFailed(n, temporal.NewNonRetryableApplicationError("human input inside an iteration is not supported", node.ErrFlow, nil))
			}
			branch, err := r.askHuman(ctx, n, &item, &res)
			if err != nil {
				return err
			}
			res.Branches = []int{branch}
		case agentflow.KindIteration:
			out, err := r.iterate(ctx, n, res)
			if err != nil {
				return nodeFailed(n, err)
			}
			res.Output = out
		case agentflow.KindExecuteFlow:
			answer, err := r.executeFlow(ctx, n, res.Child)
			if err != nil {
				return nodeFailed(n, err)
			}
			res.Output, res.Child = map[string]any{"content": answer}, nil
		}
		r.finish(id, item, res)
		return nil
	}
}

// finish records a node's result.
func (r *agentRun) finish(id string, item node.ExecutedNode, res node.StepResult) {
	if res.State != nil {
		r.state = res.State
	}
	r.outputs[id], r.last = res.Output, id
	r.chatHistory = append(r.chatHistory, res.ChatHistory...)
	item.Data.Input, item.Data.Output, item.Data.State = res.Input, res.Output, r.state
	r.executed = append(r.executed, item)
	r.s.Done(id, res.Branches...)
}

// askHuman stops the run at a human input node and returns the branch the answer picks: 0
// to proceed, 1 to reject.
func (r *agentRun) askHuman(ctx workflow.Context, n agentflow.Node, item *node.ExecutedNode, res *node.StepResult) (int, error) {
	description := res.Content()
	answer, err := r.waitForHuman(ctx, n, *item, description, res.Input, res.Output)
	if err != nil {
		return 0, err
	}
	res.Output = map[string]any{"content": description, "humanInput": map[string]any{"type": answer.Type, "feedback": answer.Feedback}}
	// In Flowise the answer is a new request, whose run has a chat history of its own: the
	// stopped turn is in the session's saved messages now, and the human input node adds the
	// reviewer's feedback, which the nodes after it (with memory) read as the user's words.
	r.chatHistory = nil
	if answer.Feedback != "" {
		res.ChatHistory = []node.Message{{Role: "user", Content: answer.Feedback}}
	}
	if answer.Type == "reject" {
		return 1, nil
	}
	return 0, nil
}

// waitForHuman saves the turn so far with an action asking to proceed or reject (input is
// the action's, what the node worked from), and waits (for as long as it takes, at no cost)
// for the answer. The answer starts a new turn, its feedback the next question.
func (r *agentRun) waitForHuman(ctx workflow.Context, n agentflow.Node, item node.ExecutedNode, description string, input any, output map[string]any) (HumanInput, error) {
	if r.in.Depth > 0 {
		// Nobody can answer: the person talks to the flow that runs this one.
		return HumanInput{}, temporal.NewNonRetryableApplicationError(
			"human input is not supported in a flow run by another flow", node.ErrFlow, nil)
	}
	action := Action{
		ID:      r.derivedID(node.ActionID(n.ID, r.turn)),
		Mapping: map[string]string{"approve": "Proceed", "reject": "Reject"},
		Elements: []map[string]any{
			{"type": "agentflowv2-approve-button", "label": "Proceed"},
			{"type": "agentflowv2-reject-button", "label": "Reject"},
		},
		Data: map[string]any{"nodeId": n.ID, "nodeLabel": n.Label, "input": input},
	}
	stopped := item
	stopped.Status = node.StatusStopped
	stopped.Data.Output = output
	r.parked, r.answer = &parkedAt{nodeID: n.ID, actionID: action.ID, item: stopped}, nil
	if _, err := r.saveTurn(ctx, description, &action); err != nil {
		return HumanInput{}, err
	}
	if err := workflow.Await(ctx, func() bool { return r.answer != nil }); err != nil {
		return HumanInput{}, err // the run was cancelled (aborted) while it waited
	}
	answer := *r.answer
	r.turn++
	r.question, r.userAt = answer.Feedback, workflow.Now(ctx)
	if r.question == "" {
		r.question = action.Mapping[map[string]string{"proceed": "approve", "reject": "reject"}[answer.Type]]
	}
	r.in.Run.Topic, r.in.Run.Stream = answer.Topic, answer.Stream
	return answer, nil
}

// saveTurn stores the current turn's question and answer (with the action, when the run
// stops for human input) and returns the answer's message id.
func (r *agentRun) saveTurn(ctx workflow.Context, answer string, action *Action) (string, error) {
	if ctx.Err() != nil {
		return "", temporal.NewCanceledError()
	}
	save := node.SaveMessagesRequest{
		ChatflowID: r.in.Run.ChatflowID, ChatID: r.in.Run.ChatID, SessionID: r.in.Run.SessionID,
		UserMessageID: r.derivedID(node.TurnMessageID(r.turn, node.UserMessage)),
		APIMessageID:  r.derivedID(node.TurnMessageID(r.turn, node.APIMessage)),
		Question:      r.question, Answer: answer,
		UserAt: r.userAt.UnixMilli(), APIAt: max(workflow.Now(ctx).UnixMilli(), r.userAt.UnixMilli()+1),
		ChatType: r.in.ChatType, LeadEmail: r.in.LeadEmail, Topic: r.in.Run.Topic,
	}
	if r.turn == 0 {
		save.FileUploads = r.in.FileUploads
	}
	executed, state := r.executed, node.StatusFinished
	if action != nil {
		raw, err := json.Marshal(action)
		if err != nil {
			return "", fmt.Errorf("encode action: %w", err)
		}
		save.Action, state = raw, node.StatusStopped
		executed = append(slices.Clone(executed), r.parked.item)
	}
	data, err := json.Marshal(executed)
	if err != nil {
		return "", fmt.Errorf("encode agentFlowExecutedData: %w", err)
	}
	save.Execution = &node.ExecutionRecord{ID: r.runID, AgentflowID: r.in.Run.ChatflowID, SessionID: r.in.Run.SessionID,
		State: state, Data: data, StartedAt: r.startedAt.UnixMilli()}
	saveCtx, cancelSave := workflow.NewDisconnectedContext(ctx)
	defer cancelSave()
	if err := quickActivity(saveCtx, node.SaveMessagesActivity, save, true).Get(saveCtx, nil); err != nil {
		return "", temporal.NewNonRetryableApplicationError("The answer could not be saved; try again", node.ErrSaveFailed, err)
	}
	return save.APIMessageID, nil
}

// derivedID is an id that is the same on every replay and retry of this run.
func (r *agentRun) derivedID(name string) string { return node.DerivedID(r.runID, name) }

// runStep schedules one agentflow node: nodes that call models or the network are regular
// activities, retried on another worker if this one dies; the rest run locally.
func runStep(ctx workflow.Context, n agentflow.Node, req node.StepRequest) workflow.Future {
	name := node.ActivityName(n.Kind)
	if node.CallsOut(n.Kind) {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, modelCallOptions), name, req)
	}
	return quickActivity(ctx, name, req, true)
}

// IterationInput is one item of an iteration, with the run as it stood at the iteration node.
type IterationInput struct {
	Graph     agentflow.Graph           `json:"graph"`
	Run       node.AgentflowRun         `json:"run"`
	Iteration string                    `json:"iteration"` // the iteration node's id
	Item      any                       `json:"item"`
	State     map[string]any            `json:"state,omitempty"`
	Outputs   map[string]map[string]any `json:"outputs,omitempty"`
	// ChatHistory is the run's chat history at the iteration node; Depth as the run's.
	ChatHistory []node.Message `json:"chatHistory,omitempty"`
	Depth       int            `json:"depth,omitempty"`
}

// IterationResult is what one item's pass produced.
type IterationResult struct {
	Content  string              `json:"content"`
	State    map[string]any      `json:"state,omitempty"`
	Executed []node.ExecutedNode `json:"executed"`
	// ChatHistory is what the item's nodes added to the run's chat history.
	ChatHistory []node.Message `json:"chatHistory,omitempty"`
}

// iterate runs the iteration node's child nodes once per item of its input, one child
// workflow per item (each its own run in the Temporal UI), in order; the state each item
// leaves is the next one's. The node's output lists every item's answer.
func (r *agentRun) iterate(ctx workflow.Context, n agentflow.Node, res node.StepResult) (map[string]any, error) {
	items, _ := res.Output["items"].([]any)
	info := workflow.GetInfo(ctx)
	answers := make([]string, 0, len(items))
	for i, item := range items {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: node.ChildWorkflowID(info.WorkflowExecution.ID, node.IterationKey(n.ID, i)),
		})
		var out IterationResult
		in := IterationInput{Graph: r.in.Graph, Run: r.in.Run, Iteration: n.ID, Item: item, State: r.state, Outputs: r.outputs,
			ChatHistory: r.chatHistory, Depth: r.in.Depth}
		in.Run.Question, in.Run.Stream = r.question, false
		if err := workflow.ExecuteChildWorkflow(cctx, node.IterationWorkflow, in).Get(ctx, &out); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if out.State != nil {
			r.state = out.State
		}
		r.executed = append(r.executed, out.Executed...)
		r.chatHistory = append(r.chatHistory, out.ChatHistory...)
		answers = append(answers, out.Content)
	}
	raw, err := json.Marshal(answers)
	if err != nil {
		return nil, fmt.Errorf("encode the items' answers: %w", err)
	}
	return map[string]any{"content": string(raw), "iterations": answers}, nil
}

// Iteration runs one item of an iteration node: its child nodes, from those no other child
// feeds, with $iteration set to the item.
func Iteration(ctx workflow.Context, in IterationInput) (IterationResult, error) {
	r := &agentRun{in: AgentflowInput{Graph: in.Graph, Run: in.Run, Depth: in.Depth}, g: &in.Graph, state: in.State,
		outputs: map[string]map[string]any{}, question: in.Run.Question, iteration: in.Item,
		runID: workflow.GetInfo(ctx).WorkflowExecution.RunID, chatHistory: in.ChatHistory}
	if r.state == nil {
		r.state = map[string]any{}
	}
	for id, out := range in.Outputs {
		r.outputs[id] = out
	}
	r.s = r.g.NewSchedule(in.Iteration)
	if err := r.runAll(ctx); err != nil {
		return IterationResult{}, err
	}
	content, _ := r.outputs[r.last]["content"].(string)
	return IterationResult{Content: content, State: r.state, Executed: r.executed,
		ChatHistory: r.chatHistory[len(in.ChatHistory):]}, nil
}

// executeFlow runs another chatflow for an Execute Flow node.
func (r *agentRun) executeFlow(ctx workflow.Context, n agentflow.Node, child *node.ChildFlow) (string, error) {
	return r.runChildFlow(ctx, node.ExecuteFlowKey(n.ID, len(r.executed)), node.ExecuteFlowChatID(n.ID, r.turn, len(r.executed)), child)
}

// runChildFlow runs another chatflow as a child workflow (see runFlow).
func (r *agentRun) runChildFlow(ctx workflow.Context, key, chatKey string, child *node.ChildFlow) (string, error) {
	return runFlow(ctx, flowParent{depth: r.in.Depth, vars: r.in.Run.Vars, runID: r.runID}, key, chatKey, child)
}

// flowParent is what a run hands on to a flow it runs: how deep it is itself, its variables,
// and its run id, from which the child's conversation id derives.
type flowParent struct {
	depth int
	vars  map[string]string
	runID string
}

// runFlow runs another chatflow as a child workflow, from the snapshot read of it, in a
// conversation of its own, and returns its answer. key names the child workflow (under this
// run's id) and chatKey its conversation.
func runFlow(ctx workflow.Context, p flowParent, key, chatKey string, child *node.ChildFlow) (string, error) {
	if child == nil {
		return "", temporal.NewNonRetryableApplicationError("no flow to execute", node.ErrFlow, nil)
	}
	if p.depth >= maxFlowDepth {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("flows run other flows more than %d deep; do two flows call each other?", maxFlowDepth), node.ErrFlow, nil)
	}
	info := workflow.GetInfo(ctx)
	chatID := node.DerivedID(p.runID, chatKey)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: node.ChildWorkflowID(info.WorkflowExecution.ID, key),
	})
	flowErr := func(err error) error {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("flow %s: %v", child.ChatflowID, err), node.ErrFlow, nil)
	}
	if child.Type == "AGENTFLOW" {
		g := child.Graph
		if g == nil { // recorded before activities checked the flows they read
			var err error
			if g, err = agentflow.Parse(child.FlowData); err == nil {
				err = node.CheckAgentflow(g)
			}
			if err != nil {
				return "", flowErr(err)
			}
		}
		in := AgentflowInput{Graph: *g, ChatType: "INTERNAL", Depth: p.depth + 1, Run: node.AgentflowRun{
			ChatflowID: child.ChatflowID, ChatID: chatID, SessionID: chatID, Question: child.Question, Vars: p.vars}}
		var out AgentflowResult
		if err := workflow.ExecuteChildWorkflow(cctx, node.AgentflowWorkflow, in).Get(ctx, &out); err != nil {
			return "", err
		}
		return out.Text, nil
	}
	plan := child.Plan
	if plan == nil { // recorded before activities checked the flows they read
		g, err := chatflow.Parse(child.FlowData)
		if err != nil {
			return "", flowErr(err)
		}
		if plan, err = chatflow.Compile(g, node.InChatflow); err != nil {
			return "", flowErr(err)
		}
	}
	in := PredictionInput{Plan: *plan, ChatType: "INTERNAL", Depth: p.depth + 1, Run: node.Run{
		ChatflowID: child.ChatflowID, ChatID: chatID, SessionID: chatID, Question: child.Question, Vars: p.vars}}
	var out PredictionResult
	if err := workflow.ExecuteChildWorkflow(cctx, node.PredictionWorkflow, in).Get(ctx, &out); err != nil {
		return "", err
	}
	return out.Text, nil
}

// maxAgentTurns bounds an agent's model turns in one step, as Flowise bounds its iterations.
const maxAgentTurns = 10

// runStepWithTools runs a node's step; when an agent's model asks for tools, each call runs
// as its own activity (retried on its own, never repeated once done) and the agent gets
// another turn with the results, until it answers (agentLoop). A tool that requires human
// input first stops the run for a person's approval; a rejected tool is no longer offered.
func (r *agentRun) runStepWithTools(ctx workflow.Context, n agentflow.Node, item node.ExecutedNode, req node.StepRequest, res *node.StepResult) error {
	var sources []any
	used, direct, err := agentLoop(maxAgentTurns,
		func(conversation []node.Message) (agentTurn, error) {
			*res = node.StepResult{} // each turn's result stands alone
			req.Conversation = conversation
			if err := runStep(ctx, n, req).Get(ctx, res); err != nil {
				return agentTurn{}, err
			}
			return agentTurn{conversation: res.Conversation, calls: res.ToolCalls}, nil
		},
		func(call node.ToolCall) (string, bool, error) {
			out, err := r.callTool(ctx, n, item, *res, call, &req)
			if err != nil {
				return "", false, err
			}
			// Only a retriever tool reports documents; any other tool's text stays whole.
			if text, docs, found := strings.Cut(out, agentflow.SourceDocumentsPrefix); found && call.Tool == agentflow.ToolKnowledge {
				var list []any
				if json.Unmarshal([]byte(docs), &list) == nil {
					sources = append(sources, list...)
				}
				out = text
			}
			// A tool returning directly answers for the agent, without another model turn.
			return out, call.ReturnDirect && call.Refused == "" && !slices.Contains(req.Rejected, call.Entry), nil
		})
	if errors.Is(err, errAgentTurns) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the agent did not answer within %d turns", maxAgentTurns), node.ErrFlow, nil)
	}
	if err != nil {
		return err
	}
	usedTools := make([]map[string]any, len(used))
	for i, u := range used {
		usedTools[i] = map[string]any{"tool": u.call.Name, "toolInput": u.call.Arguments, "toolOutput": u.out}
	}
	if direct {
		*res = node.StepResult{Output: map[string]any{"content": used[len(used)-1].out, "usedTools": usedTools}}
		return nil
	}
	if len(used) > 0 {
		res.Output["usedTools"] = usedTools
	}
	if len(sources) > 0 {
		res.Output["sourceDocuments"] = sources
	}
	return nil
}

// callTool runs one tool call and returns what the model reads back. A tool the model misused
// answers with the error, so the model can correct itself.
func (r *agentRun) callTool(ctx workflow.Context, n agentflow.Node, item node.ExecutedNode, res node.StepResult, call node.ToolCall, req *node.StepRequest) (string, error) {
	if call.Refused != "" {
		return "Error: " + call.Refused, nil
	}
	if call.NeedsApproval {
		approved, err := r.approveTool(ctx, n, item, res, call)
		if err != nil {
			return "", err
		}
		// The answer came with a request of its own: the rest of the run streams there.
		req.Run.Topic, req.Run.Stream = r.in.Run.Topic, r.in.Run.Stream
		if !approved.ok {
			req.Rejected = append(req.Rejected, call.Entry)
			return approved.message, nil
		}
	}
	tctx := workflow.WithActivityOptions(ctx, modelCallOptions)
	toolReq := node.ToolRequest{Node: n, Call: call, Run: r.in.Run, State: r.state}
	var out string
	var err error
	if node.Is(call.Tool, node.FlowTool) {
		var child node.ChildFlow
		if err = workflow.ExecuteActivity(tctx, call.ActivityName(), toolReq).Get(ctx, &child); err == nil {
			// Providers make call ids up (call_0, …) per response: a counter keeps them apart.
			key := node.FlowToolKey(n.ID, r.flowTools)
			r.flowTools++
			out, err = r.runChildFlow(ctx, key, node.FlowToolChatID(key), &child)
		}
	} else {
		err = workflow.ExecuteActivity(tctx, call.ActivityName(), toolReq).Get(ctx, &out)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == node.ErrFlow {
		return "Error: " + app.Message(), nil
	}
	return out, err
}

type approval struct {
	ok      bool
	message string // what the model reads when the call is rejected
}

// approveTool stops the run until a person approves or rejects a call of a tool that
// requires human input, as Flowise shows it: the agent's words, then the call it attempts.
func (r *agentRun) approveTool(ctx workflow.Context, n agentflow.Node, item node.ExecutedNode, res node.StepResult, call node.ToolCall) (approval, error) {
	if r.iteration != nil {
		return approval{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("tool %s requires human input, which is not supported inside an iteration", call.Name), node.ErrFlow, nil)
	}
	details, err := json.MarshalIndent(map[string]any{"name": call.Name, "args": json.RawMessage(cmp.Or(call.Arguments, "{}")), "id": call.ID}, "", "  ")
	if err != nil {
		details = []byte(call.Arguments)
	}
	description := res.Content() + "\nAttempting to use tool:\n```json\n" + string(details) + "\n```"
	answer, err := r.waitForHuman(ctx, n, item, description, description, map[string]any{"content": description})
	if err != nil {
		return approval{}, err
	}
	if answer.Type == "proceed" {
		return approval{ok: true}, nil
	}
	msg := "The user rejected this tool call; do not call " + call.Name + " again."
	if answer.Feedback != "" {
		msg += " Their feedback: " + answer.Feedback
	}
	return approval{message: msg}, nil
}
