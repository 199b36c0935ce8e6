package agentflow

import (
	"cmp"
	"regexp"
	"strings"
)

// The contract between the agentflow workflow and its node activities. Everything here travels
// through workflow history: settings, ids and outputs, never a decrypted secret.

// Run is what every node of one agentflow run shares.
type Run struct {
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

// StepRequest is the input of an agentflow node activity.
type StepRequest struct {
	Node Node `json:"node"`
	Run  Run  `json:"run"`
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
	Conversation []AgentMessage `json:"conversation,omitempty"`
	// Rejected are the agentTools entries a person refused a call of in this run; the agent
	// no longer offers them.
	Rejected []int `json:"rejected,omitempty"`
	// ChatHistory is the run's own conversation so far, as Flowise's runtime chat history:
	// the question and each LLM or Agent node's answer, which later nodes with memory see.
	ChatHistory []AgentMessage `json:"chatHistory,omitempty"`
}

// AgentMessage is one message of an agent's conversation, kept by the workflow between the
// agent's turns and its tool calls.
type AgentMessage struct {
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	ToolCalls  []AgentToolCall `json:"toolCalls,omitempty"`
	ToolCallID string          `json:"toolCallId,omitempty"`
}

// AgentToolCall is one call an agent's model asked for.
type AgentToolCall struct {
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
func (c AgentToolCall) Kind() string { return cmp.Or(c.Tool, c.Name) }

// ActivityName is the activity that runs the call.
func (c AgentToolCall) ActivityName() string { return ToolActivityName(c.Kind()) }

// ToolRequest is the input of a tool activity ("tool.<name>").
type ToolRequest struct {
	Node Node          `json:"node"` // the agent, whose agentTools hold the tool's settings
	Call AgentToolCall `json:"call"`
	Run  Run           `json:"run"`
	// State is $flow.state when the agent called the tool.
	State map[string]any `json:"state,omitempty"`
}

// ToolActivityName is the activity that runs a tool, e.g. "tool.calculator".
func ToolActivityName(tool string) string { return "tool." + tool }

// ToolEntry is one item of an Agent node's agentTools list.
type ToolEntry struct {
	Index  int            // position in agentTools, as AgentToolCall.Entry names it
	Kind   string         // agentSelectedTool, e.g. "requestsGet" or "customTool"
	Config map[string]any // agentSelectedToolConfig
	// RequiresHumanInput: the run asks a person before each call of this tool.
	RequiresHumanInput bool
}

// SourceDocumentsPrefix separates a retriever tool's text from the JSON of the documents it
// found (Flowise's SOURCE_DOCUMENTS_PREFIX): the workflow gives the model the text and reports
// the documents as the node's sourceDocuments.
const SourceDocumentsPrefix = "\n\n----FLOWISE_SOURCE_DOCUMENTS----\n\n"

// ToolKnowledge is the kind of the tool an agent gets for each of its document stores
// (agentKnowledgeDocumentStores), named after Flowise's retriever tool.
const ToolKnowledge = "retrieverTool"

// ToolEntries lists the tools an agent node offers its model, skipping empty rows: its
// agentTools, then a search tool per document store it knows (Config is then the knowledge
// entry: documentStore "<id>:<name>", docStoreDescription, returnSourceDocuments), numbered on
// after the agentTools.
func ToolEntries(n Node) []ToolEntry {
	list, _ := n.Inputs["agentTools"].([]any)
	var out []ToolEntry
	for i, item := range list {
		m, _ := item.(map[string]any)
		kind, _ := m["agentSelectedTool"].(string)
		if kind == "" {
			continue
		}
		cfg, _ := m["agentSelectedToolConfig"].(map[string]any)
		out = append(out, ToolEntry{Index: i, Kind: kind, Config: cfg, RequiresHumanInput: Truthy(m["agentSelectedToolRequiresHumanInput"])})
	}
	stores, _ := n.Inputs["agentKnowledgeDocumentStores"].([]any)
	for i, item := range stores {
		m, _ := item.(map[string]any)
		if ref, _ := m["documentStore"].(string); ref != "" {
			out = append(out, ToolEntry{Index: len(list) + i, Kind: ToolKnowledge, Config: m})
		}
	}
	return out
}

// AgentTools lists the kinds of tools an agent node offers its model.
func AgentTools(n Node) []string {
	var out []string
	for _, e := range ToolEntries(n) {
		out = append(out, e.Kind)
	}
	return out
}

// Truthy reads a Flowise boolean input, which exports as true, "true" or "" (unset).
func Truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// toolNameStrip is what Flowise removes from a tool name once it is lower case with spaces
// as underscores: anything but [a-z0-9_-], which model APIs accept in function names.
var toolNameStrip = regexp.MustCompile(`[^a-z0-9_-]`)

// SanitizeToolName is Flowise's sanitizeToolName without its fallback: "" when nothing of the
// name is left, for the caller to replace.
func SanitizeToolName(name string) string {
	return toolNameStrip.ReplaceAllString(strings.ReplaceAll(strings.ToLower(name), " ", "_"), "")
}

// Flow tools run another chatflow (ChatflowTool) or agentflow (agentAsTool): their activity
// returns the flow to run, as a ChildFlow, and the workflow runs it as a child workflow.
const (
	ToolChatflow = "ChatflowTool"
	ToolAgent    = "agentAsTool"
)

// IsFlowTool reports the tool kinds that run another flow.
func IsFlowTool(kind string) bool { return kind == ToolChatflow || kind == ToolAgent }

// StepResult is what a node activity returns.
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
	Conversation []AgentMessage  `json:"conversation,omitempty"`
	ToolCalls    []AgentToolCall `json:"toolCalls,omitempty"`
	// ChatHistory is what the node adds to the run's chat history.
	ChatHistory []AgentMessage `json:"chatHistory,omitempty"`
}

// ChildFlow is another chatflow to run, as it was when the node read it.
type ChildFlow struct {
	ChatflowID string `json:"chatflowId"`
	Type       string `json:"type"` // CHATFLOW or AGENTFLOW
	FlowData   string `json:"flowData"`
	Question   string `json:"question"`
}

// Content is a result's text output.
func (r StepResult) Content() string {
	s, _ := r.Output["content"].(string)
	return s
}

// NextAgentFlowEvent is the stream event reporting a node's progress, as Flowise's
// nextAgentFlow event does: {nodeId, nodeLabel, status, error?}.
const NextAgentFlowEvent = "nextAgentFlow"

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

// Parents lists the nodes with an edge into id, in file order.
func (g *Graph) Parents(id string) []string {
	var out []string
	for _, n := range g.Nodes {
		for _, e := range g.Edges {
			if e.Target == id && e.Source == n.ID {
				out = append(out, n.ID)
				break
			}
		}
	}
	return out
}

// IsEnding reports whether a node has no outgoing edge.
func (g *Graph) IsEnding(id string) bool {
	for _, e := range g.Edges {
		if e.Source == id {
			return false
		}
	}
	return true
}
