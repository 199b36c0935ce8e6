package node

import (
	"cmp"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// The contract between the agentflow workflow and its step and tool activities.

// AgentflowRun is what every node of one agentflow run shares.
type AgentflowRun struct {
	ChatflowID string            `json:"chatflowId"`
	ChatID     string            `json:"chatId"`
	SessionID  string            `json:"sessionId"`
	Question   string            `json:"question"`
	Form       map[string]any    `json:"form,omitempty"`
	Vars       map[string]string `json:"vars,omitempty"`
	// Topic is where the run's events go; with Stream, the ending node's tokens too.
	Topic  string `json:"topic,omitempty"`
	Stream bool   `json:"stream,omitempty"`
	// EphemeralMemory: nodes with memory see only this run, not the session's earlier runs
	// (Start's startEphemeralMemory).
	EphemeralMemory bool `json:"ephemeralMemory,omitempty"`
}

// StepRequest is the input of an agentflow step activity.
type StepRequest struct {
	Node agentflow.Node `json:"node"`
	Run  AgentflowRun   `json:"run"`
	// State is $flow.state before the node runs.
	State map[string]any `json:"state,omitempty"`
	// Outputs are the outputs of the nodes that ran before, by node id, for {{ nodeId }}.
	Outputs map[string]map[string]any `json:"outputs,omitempty"`
	// Iteration is the current item inside an iteration ($iteration).
	Iteration any `json:"iteration,omitempty"`
	// Ending is true for a node with no outgoing edge: its tokens are the stream's.
	Ending bool `json:"ending,omitempty"`
	// Conversation is an agent's conversation so far, tool results included; empty on its
	// first turn.
	Conversation []Message `json:"conversation,omitempty"`
	// Rejected are the agentTools entries a person refused a call of in this run; the agent
	// no longer offers them.
	Rejected []int `json:"rejected,omitempty"`
	// ChatHistory is the run's own conversation so far, as Flowise's runtime chat history:
	// the question and each LLM or Agent node's answer, which later nodes with memory see.
	ChatHistory []Message `json:"chatHistory,omitempty"`
}

// StepResult is what a step activity returns.
type StepResult struct {
	// Input is what the node worked from (resolved messages, request, code inputs), reported
	// in agentFlowExecutedData.
	Input any `json:"input,omitempty"`
	// Output holds at least "content", the text later nodes and the answer use.
	Output map[string]any `json:"output"`
	// State is $flow.state after the node; nil leaves it unchanged.
	State map[string]any `json:"state,omitempty"`
	// Branches are the output branches a decision node enabled.
	Branches []int `json:"branches,omitempty"`
	// Child is the flow an Execute Flow node runs next, as a child workflow.
	Child *ChildFlow `json:"child,omitempty"`
	// Conversation and ToolCalls are an agent's turn that asked for tools: the workflow runs
	// each call as its own activity and gives the agent another turn.
	Conversation []Message  `json:"conversation,omitempty"`
	ToolCalls    []ToolCall `json:"toolCalls,omitempty"`
	// ChatHistory is what the node adds to the run's chat history.
	ChatHistory []Message `json:"chatHistory,omitempty"`
}

// Content is a result's text output.
func (r StepResult) Content() string {
	s, _ := r.Output["content"].(string)
	return s
}

// ToolCall is one call an agent's model asked for.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"` // the function the model called
	Arguments string `json:"arguments"`
	// Tool is the kind of tool that serves the call (an agentSelectedTool such as
	// "requestsGet") and Entry its position in the agent's agentTools. Runs recorded before
	// tools could be renamed leave Tool empty: their calls are named after their kind.
	Tool  string `json:"tool,omitempty"`
	Entry int    `json:"entry,omitempty"`
	// NeedsApproval: the entry requires human input before the tool runs.
	NeedsApproval bool `json:"needsApproval,omitempty"`
	// ReturnDirect: the tool's answer is the agent's (the entry's returnDirect setting).
	ReturnDirect bool `json:"returnDirect,omitempty"`
	// Refused says why the call cannot run (the model named no offered tool); the model reads
	// it as the tool's answer.
	Refused string `json:"refused,omitempty"`
}

// Kind is the kind of tool that serves the call; calls recorded before tools could be
// renamed are named after it.
func (c ToolCall) Kind() string { return cmp.Or(c.Tool, c.Name) }

// ActivityName is the activity that runs the call.
func (c ToolCall) ActivityName() string { return ToolActivityName(c.Kind()) }

// ToolRequest is the input of a tool activity ("tool.<kind>").
type ToolRequest struct {
	Node agentflow.Node `json:"node"` // the agent, whose agentTools hold the tool's settings
	Call ToolCall       `json:"call"`
	Run  AgentflowRun   `json:"run"`
	// State is $flow.state when the agent called the tool.
	State map[string]any `json:"state,omitempty"`
	// Tool is the tool node serving the call in a classic chatflow, whose settings are its
	// own (Node is then the agent node, with no agentTools).
	Tool *ToolNode `json:"tool,omitempty"`
}

// ChildFlow is another chatflow to run, as it was when the node read it: the result of an
// Execute Flow step and of a flow tool.
type ChildFlow struct {
	ChatflowID string `json:"chatflowId"`
	Type       string `json:"type"` // CHATFLOW or AGENTFLOW
	// Plan (a chatflow) or Graph (an agentflow) is the flow, checked by the activity that
	// read it (its secret inputs redacted), so what a run recorded never depends on what a
	// later version accepts. Runs recorded before carry FlowData, which the workflow checks.
	Plan     *chatflow.Plan   `json:"plan,omitempty"`
	Graph    *agentflow.Graph `json:"graph,omitempty"`
	FlowData string           `json:"flowData,omitempty"`
	Question string           `json:"question"`
}

// Node statuses in agentFlowExecutedData and the agentFlowEvent stream.
const (
	StatusInProgress = "INPROGRESS"
	StatusFinished   = "FINISHED"
	StatusError      = "ERROR"
	StatusStopped    = "STOPPED"
)

// ExecutedNode is one item of Flowise's agentFlowExecutedData.
type ExecutedNode struct {
	NodeID          string       `json:"nodeId"`
	NodeLabel       string       `json:"nodeLabel"`
	PreviousNodeIDs []string     `json:"previousNodeIds"`
	Status          string       `json:"status"`
	Data            ExecutedData `json:"data"`
}

// ExecutedData is what a node got and gave.
type ExecutedData struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Input  any            `json:"input,omitempty"`
	Output map[string]any `json:"output,omitempty"`
	State  map[string]any `json:"state,omitempty"`
	Error  string         `json:"error,omitempty"`
}
