// Package node is the contract between the workflow interpreters and the node activities: the
// one table of node kinds (kinds.go), the names recorded in workflow histories (names.go), and
// what each family of activities receives and returns (this file for chatflow nodes,
// agentflow.go for agentflow steps and tools). Everything here travels through workflow
// history, so it holds settings and ids, never a decrypted secret.
package node

import (
	"encoding/json"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// Request is the input of a node activity.
type Request struct {
	Node chatflow.Node `json:"node"`
	// Upstream holds the results of the nodes this one is wired to, by node id.
	Upstream map[string]Value `json:"upstream,omitempty"`
	Run      Run              `json:"run"`
	// Ending is true for the node whose result answers the prediction.
	Ending bool `json:"ending,omitempty"`
	// Upsert is set on the vector store node a vector upsert run ends at: it adds the
	// documents wired into it instead of only describing itself.
	Upsert bool `json:"upsert,omitempty"`
	// Conversation is an agent's conversation so far, tool results included; empty on its
	// first model turn.
	Conversation []Message `json:"conversation,omitempty"`
	// AsTool: the chain answers a chainTool's call (Run.Question is the tool's input) rather
	// than the prediction.
	AsTool bool `json:"asTool,omitempty"`
}

// Run is what every node of one prediction shares.
type Run struct {
	ChatflowID string            `json:"chatflowId"`
	ChatID     string            `json:"chatId"`
	SessionID  string            `json:"sessionId"`
	Question   string            `json:"question"`
	History    []Message         `json:"history,omitempty"` // the request's history field
	Vars       map[string]string `json:"vars,omitempty"`
	// Topic is where the run's events go: the answer as soon as it is saved, and, with Stream,
	// the ending node's tokens. Empty means nobody listens.
	Topic  string `json:"topic,omitempty"`
	Stream bool   `json:"stream,omitempty"`
	// Uploads are this turn's files. Stored files travel as storage keys, never as content,
	// so any worker reads them from the storage every process shares.
	Uploads []Upload `json:"uploads,omitempty"`
	// FilesContent is the text of "file:full" uploads as Flowise frames it
	// (<doc name='…'>…</doc>), put before the question.
	FilesContent string `json:"filesContent,omitempty"`
}

// Upload is one file of a turn, as Flowise records it in chat_message.fileUploads.
type Upload struct {
	Type string `json:"type"` // "stored-file", "stored-file:full" or "url"
	Name string `json:"name"`
	Mime string `json:"mime"`
	// Data is the address of a "url" upload; stored files have none (they are in storage
	// under <chatflowId>/<chatId>/<name>).
	Data string `json:"data,omitempty"`
}

// FileDoc frames a file's text the way Flowise puts uploaded files before the question.
func FileDoc(name, text string) string {
	return "<doc name='" + name + "'>" + text + "</doc>\n\n"
}

// Upload types.
const (
	UploadStored     = "stored-file"
	UploadStoredFull = "stored-file:full"
	UploadURL        = "url"
)

// Value is a node's result. Exactly one of the typed fields is set, by the kind of node.
type Value struct {
	Kind   string  `json:"kind"`
	Model  *Model  `json:"model,omitempty"`
	Prompt *Prompt `json:"prompt,omitempty"`
	Memory *Memory `json:"memory,omitempty"`
	// Text is a chain's or an agent's answer.
	Text *string `json:"text,omitempty"`

	// Output parsers, moderation and utility nodes (issue #14).
	//
	// Parser is an output parser's settings, for the chain that applies it.
	Parser *Parser `json:"parser,omitempty"`
	// Moderation is an input moderation's settings, for the chain that checks its input.
	Moderation *Moderation `json:"moderation,omitempty"`
	// JSON is a chain's answer as its output parser parsed it: Flowise answers it as
	// {"json": …} instead of text.
	JSON json.RawMessage `json:"json,omitempty"`
	// Branch is the output an ifElseFunction chose (BranchTrue or BranchFalse); the
	// workflow skips the nodes of the other one.
	Branch string `json:"branch,omitempty"`
	// FlowVar is the run-scoped variable a setVariable node set.
	FlowVar *FlowVar `json:"flowVar,omitempty"`
	// Retrieval (loaders, splitters, embeddings, vector stores, retrievers); see retrieval.go.
	// A loader's documents may be large: the payload codec moves them out of history.
	Documents  []Document   `json:"documents,omitempty"`
	Splitter   *Component   `json:"splitter,omitempty"`
	Embeddings *Component   `json:"embeddings,omitempty"`
	Retriever  *Retriever   `json:"retriever,omitempty"`
	Upserted   *VectorAdded `json:"upserted,omitempty"`
	// SourceDocuments are the documents a retrieval chain answered from, when it returns them.
	SourceDocuments []Document `json:"sourceDocuments,omitempty"`
	// Agent is an agent's model turn that asked for tools: the workflow runs each call as
	// its own activity and gives the agent another turn.
	Agent *AgentTurn `json:"agent,omitempty"`
	// Tool is a tool node, which runs no activity of its own: what the agent it is wired
	// into offers its model, and what each call of it gets.
	Tool *ToolNode `json:"tool,omitempty"`
	// Deferred is a chain wired into a chainTool: it does not run when the prediction starts
	// but each time the agent calls the tool, with this request (Run left to the call).
	Deferred *Request `json:"deferred,omitempty"`
}

// AgentTurn is a chatflow agent's model turn that asked for tools.
type AgentTurn struct {
	Conversation []Message  `json:"conversation"`
	ToolCalls    []ToolCall `json:"toolCalls"`
}

// ToolNode is a tool node of a classic chatflow, as the agent it is wired into uses it.
type ToolNode struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Config is the node's inputs, with its credential id under "credential": the same
	// settings an agentflow Agent's agentTools entry holds for a tool of this kind.
	Config map[string]any `json:"config,omitempty"`
	// Upstream are the values of the nodes wired into the tool node, by node id: a
	// chainTool's chain (Deferred), a retrieverTool's retriever, which the tool's call reads
	// (ToolRequest.Tool.Upstream). A tool whose input is another node's result finds it
	// here through chatflow.InstanceRef of its input.
	Upstream map[string]Value `json:"upstream,omitempty"`
}

// UsedTool is one tool call of an agent's answer, as Flowise reports it (usedTools).
type UsedTool struct {
	Tool       string `json:"tool"`
	ToolInput  any    `json:"toolInput"`
	ToolOutput string `json:"toolOutput"`
	Error      string `json:"error,omitempty"`
}

// Parser is an output parser node's settings (Kind names which one).
type Parser struct {
	Kind    string `json:"kind"`
	AutoFix bool   `json:"autoFix,omitempty"`
	// Schema is the JSON Schema a structured parser's answer must match.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Separator and Length configure a list parser (customListOutputParser).
	Separator string `json:"separator,omitempty"`
	Length    int    `json:"length,omitempty"`
}

// Moderation is an input moderation node's settings: a deny list, with the model that judges
// similarity to it (inputModerationSimple), or the OpenAI moderation endpoint's credential.
type Moderation struct {
	Kind         string   `json:"kind"`
	DenyList     []string `json:"denyList,omitempty"`
	Model        *Model   `json:"model,omitempty"`
	CredentialID string   `json:"credentialId,omitempty"`
	BaseURL      string   `json:"baseUrl,omitempty"`
	ErrorMessage string   `json:"errorMessage"`
}

// FlowVar is a run-scoped variable: Flowise's setVariable / getVariable.
type FlowVar struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
	// Show puts it in the answer's flowVariables (showOutput).
	Show bool `json:"show,omitempty"`
}

// Branches of an ifElseFunction node: the names of its two output anchors.
const (
	BranchTrue  = chatflow.BranchTrue
	BranchFalse = chatflow.BranchFalse
)

// Model is a configured chat model: provider settings and the id of the credential to decrypt
// when it is called.
type Model struct {
	Provider     string          `json:"provider"`
	CredentialID string          `json:"credentialId,omitempty"`
	Config       json.RawMessage `json:"config"`
	Streaming    bool            `json:"streaming"`
}

// Prompt is a prompt template with its values resolved as far as the prompt node can.
type Prompt struct {
	// Template is a single-message prompt (promptTemplate).
	Template string `json:"template,omitempty"`
	// System and Human make a chat prompt (chatPromptTemplate).
	System string            `json:"system,omitempty"`
	Human  string            `json:"human,omitempty"`
	Values map[string]string `json:"values,omitempty"`
}

// Memory is a conversation's history as a memory node loaded it.
type Memory struct {
	Label     string    `json:"label"` // e.g. "Buffer Memory", reported as memoryType
	SessionID string    `json:"sessionId"`
	MemoryKey string    `json:"memoryKey,omitempty"`
	Messages  []Message `json:"messages,omitempty"`
	// Redis is where a Redis-backed memory keeps the session, for the chain to append the
	// turn to once it has answered.
	Redis *RedisMemory `json:"redis,omitempty"`
}

// RedisMemory is a RedisBackedChatMemory's settings: the credential holding the address, or
// the address itself when the node has one, and the session's time to live in seconds.
type RedisMemory struct {
	CredentialID string `json:"credentialId,omitempty"`
	// URL is the node's redisUrl as the plan gives it: RedactedInput when it was kept out of
	// history, to be read from the saved flow of ChatflowID's node NodeID.
	URL        string `json:"url,omitempty"`
	ChatflowID string `json:"chatflowId,omitempty"`
	NodeID     string `json:"nodeId,omitempty"`
	Key        string `json:"key"`
	TTL        int    `json:"ttl,omitempty"`
}

// TextValue wraps a chain's answer.
func TextValue(kind, text string) Value { return Value{Kind: kind, Text: &text} }

// SaveMessagesRequest is the input of SaveMessagesActivity.
type SaveMessagesRequest struct {
	ChatflowID    string `json:"chatflowId"`
	ChatID        string `json:"chatId"`
	SessionID     string `json:"sessionId,omitempty"`
	MemoryType    string `json:"memoryType,omitempty"`
	UserMessageID string `json:"userMessageId"`
	APIMessageID  string `json:"apiMessageId"`
	Question      string `json:"question"`
	Answer        string `json:"answer"`
	UserAt        int64  `json:"userAt"` // unix milliseconds, from workflow time
	APIAt         int64  `json:"apiAt"`
	ChatType      string `json:"chatType,omitempty"`
	LeadEmail     string `json:"leadEmail,omitempty"`
	// FileUploads is the user message's fileUploads column (JSON), when the turn had files.
	FileUploads string `json:"fileUploads,omitempty"`
	// Action is the assistant message's action column (JSON): what the run waits for, when
	// it stopped for human input.
	Action json.RawMessage `json:"action,omitempty"`
	// Execution is the agentflow run's execution record, saved with the turn.
	Execution *ExecutionRecord `json:"execution,omitempty"`
	// JSON and FlowVariables go into the answer (ResultEvent) as the Result's.
	JSON          json.RawMessage            `json:"json,omitempty"`
	FlowVariables map[string]json.RawMessage `json:"flowVariables,omitempty"`
	// SourceDocuments is the assistant message's sourceDocuments column (JSON).
	SourceDocuments json.RawMessage `json:"sourceDocuments,omitempty"`
	// UsedTools are a chatflow agent's tool calls, saved with the answer and reported with it.
	UsedTools []UsedTool `json:"usedTools,omitempty"`
	// Topic receives ResultEvent once the messages are stored: the answer is committed then,
	// and the API can reply without waiting for the workflow to close.
	Topic string `json:"topic,omitempty"`
}

// ExecutionRecord is an agentflow run as Flowise's execution table keeps it.
type ExecutionRecord struct {
	ID          string          `json:"id"` // the run id: the prediction's executionId
	AgentflowID string          `json:"agentflowId"`
	SessionID   string          `json:"sessionId"`
	State       string          `json:"state"` // FINISHED or STOPPED
	Data        json.RawMessage `json:"data"`  // agentFlowExecutedData
	StartedAt   int64           `json:"startedAt"`
}

// Result is a prediction's answer as the workflow returns it.
type Result struct {
	Text          string          `json:"text"`
	ChatMessageID string          `json:"chatMessageId"`
	SessionID     string          `json:"sessionId,omitempty"`
	MemoryType    string          `json:"memoryType,omitempty"`
	Action        json.RawMessage `json:"action,omitempty"`
	// JSON is an output parser's answer (Flowise's "json" field); Text then holds the
	// message saved for it.
	JSON json.RawMessage `json:"json,omitempty"`
	// FlowVariables are the setVariable values shown in the answer.
	FlowVariables map[string]json.RawMessage `json:"flowVariables,omitempty"`
	// SourceDocuments are the documents a retrieval chain answered from (JSON array).
	SourceDocuments json.RawMessage `json:"sourceDocuments,omitempty"`
	// UsedTools are a chatflow agent's tool calls, as Flowise's usedTools.
	UsedTools []UsedTool `json:"usedTools,omitempty"`
}

// Upstream is the Upstream of a node whose sources are needs, from the results of the nodes
// run so far: nil for a node without sources.
func Upstream(needs []string, results map[string]Value) map[string]Value {
	if len(needs) == 0 {
		return nil
	}
	up := make(map[string]Value, len(needs))
	for _, id := range needs {
		up[id] = results[id]
	}
	return up
}
