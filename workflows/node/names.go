package node

import (
	"fmt"

	"github.com/google/uuid"
)

// Names that workflow histories, visibility records and events in flight record.
//
// NEVER CHANGE ONE. A run in flight when a new version is deployed is replayed by the new
// workers from its history, which holds these names; a renamed workflow type, activity,
// update, query, version marker or derived id makes that run fail. To rename, register both
// names and choose with workflow.GetVersion. TestFrozenNames fails when a name registered
// with a worker changes.

// Workflow types.
const (
	PredictionWorkflow   = "prediction"          // a CHATFLOW prediction
	AgentflowWorkflow    = "agentflow"           // an AGENTFLOW prediction
	IterationWorkflow    = "agentflowIteration"  // one item of an agentflow iteration node
	UpsertWorkflow       = "documentStoreUpsert" // a document-store or vector upsert
	QueryWorkflow        = "documentStoreQuery"  // a document-store search from the API
	VectorUpsertWorkflow = "vectorUpsert"        // a chatflow's vector upsert
)

// Activity names.
const (
	// SaveMessagesActivity stores the user and assistant messages of one turn.
	SaveMessagesActivity = "chat.saveMessages"
	// UpsertActivity loads, splits, embeds and stores a document store's documents.
	UpsertActivity = "docstore.upsert"
	// QueryActivity embeds a query and searches a document store.
	QueryActivity = "docstore.query"
)

// ActivityName is the activity that runs a chatflow or agentflow node kind, e.g.
// "node.chatOpenAI", so the Temporal UI names each step after its kind.
func ActivityName(kind string) string { return "node." + kind }

// ToolActivityName is the activity that runs a tool kind, e.g. "tool.calculator".
func ToolActivityName(kind string) string { return "tool." + kind }

// Updates and queries of the agentflow workflow.
const (
	HumanInputUpdate = "humanInput"            // answers a run stopped at a human input node
	ExecutedQuery    = "agentFlowExecutedData" // the nodes a run has run so far
	HumanInputQuery  = "humanInputState"       // whether a run waits, and the answers it took
)

// LocalQuickNodesChange is the workflow.GetVersion change id under which chatflow predictions
// run quick nodes as local activities (version 1) and derive message ids from the run id
// (version 2).
const LocalQuickNodesChange = "local-quick-nodes"

// PredictionVersion is the version of the chatflow Prediction workflow that starters name in
// a new run's input, so that the run needs no version marker: workflow.GetVersion records a
// marker and upserts a search attribute, one more visibility write per run. Version 3 runs
// every node as a local activity, one workflow task per prediction. Runs whose input names
// none choose by LocalQuickNodesChange, as before. Never lower it; a new behaviour takes a new
// number, and workers are deployed before the API processes that start it.
const PredictionVersion = 3

// Error types activities and workflows fail with; retry policies name the first three as
// non-retryable.
const (
	ErrFlow       = "FlowError"        // the flow is wrong (bad template, missing input)
	ErrCredential = "CredentialError"  // missing credential or one that cannot be decrypted
	ErrProvider   = "ProviderRejected" // the provider refused the request (4xx)
	ErrNodeFailed = "NodeFailed"       // a node failed for another reason
	ErrSaveFailed = "SaveFailed"       // the turn could not be stored
	ErrInvalid    = "InvalidRequest"   // a request that cannot succeed as sent (a bad upsert)
	ErrNotFound   = "NotFound"         // what the request names does not exist
	ErrAborted    = "Aborted"          // a local call stopped by its run's abort
	// ErrProviderUnavailable is a provider that failed in a way another attempt may not
	// (5xx, 429, a timeout): retried.
	ErrProviderUnavailable = "ProviderUnavailable"
)

// Search attributes and memo keys every run carries, so an operator finds a chatflow's or a
// chat's runs in the Temporal UI.
const (
	ChatflowIDAttribute = "FlowiseChatflowId"
	ChatIDAttribute     = "FlowiseChatId"
	MemoChatflowID      = "chatflowId"
	MemoChatID          = "chatId"
	MemoSessionID       = "sessionId"
	// MemoRequest is the fingerprint of the request that started the run (a hash: never the
	// request itself), and MemoTopic the topic of its events: a resent request finds the run
	// by the first and follows it by the second.
	MemoRequest = "flowgateRequest"
	MemoTopic   = "flowgateTopic"
)

// WorkflowID names the run of a conversation: one run at a time per chat, found again by the
// abort endpoint, by human input answers and by operators searching the UI.
func WorkflowID(chatflowID, chatID string) string {
	return "chat:" + chatflowID + ":" + chatID
}

// UpsertWorkflowID and QueryWorkflowID name a document store's upsert and search runs:
// "upsert:<storeId>:<requestId>", "query:<storeId>:<requestId>".
func UpsertWorkflowID(storeID, requestID string) string { return "upsert:" + storeID + ":" + requestID }
func QueryWorkflowID(storeID, requestID string) string  { return "query:" + storeID + ":" + requestID }

// VectorUpsertWorkflowID names a chatflow's vector upsert run: "vector:<chatflowId>:<requestId>".
func VectorUpsertWorkflowID(chatflowID, requestID string) string {
	return "vector:" + chatflowID + ":" + requestID
}

// ChildWorkflowID names a workflow a run starts under its own id: an iteration's item
// ("<parent>/<nodeId>/<i>"), an Execute Flow node's flow ("<parent>/<nodeId>/<n>") or a flow
// tool's ("<parent>/<nodeId>/tool/<n>").
func ChildWorkflowID(parent, key string) string { return parent + "/" + key }

// derivedIDSpace is the UUID namespace of ids derived from run ids.
var derivedIDSpace = uuid.MustParse("5e0f6b8a-4c2d-4f7e-9a51-3b8c2d7e6f10")

// DerivedID is the id called name within a run: the same on every replay and retry of it, so
// a retried save writes the same rows. The names below are the ones in use.
func DerivedID(runID, name string) string {
	return uuid.NewSHA1(derivedIDSpace, []byte(runID+"/"+name)).String()
}

// Names of derived ids.
const (
	// UserMessage and APIMessage name a chatflow turn's two messages.
	UserMessage = "userMessage"
	APIMessage  = "apiMessage"
	// UpsertLoader names the loader a document-store upsert adds.
	UpsertLoader = "loader"
)

// TurnMessageID names a message of an agentflow run's turn-th turn; role is UserMessage or
// APIMessage.
func TurnMessageID(turn int, role string) string { return fmt.Sprintf("turn/%d/%s", turn, role) }

// ActionID names the action of a human input request at a node in a turn.
func ActionID(nodeID string, turn int) string { return fmt.Sprintf("action/%s/%d", nodeID, turn) }

// ExecuteFlowKey names the child workflow of an Execute Flow node ("<nodeId>/<n>", n the nodes
// run before it); ExecuteFlowChatID names its conversation.
func ExecuteFlowKey(nodeID string, n int) string { return fmt.Sprintf("%s/%d", nodeID, n) }
func ExecuteFlowChatID(nodeID string, turn, n int) string {
	return fmt.Sprintf("execute/%s/%d/%d", nodeID, turn, n)
}

// FlowToolKey names the child workflow of an agent's n-th flow tool call; FlowToolChatID its
// conversation.
func FlowToolKey(nodeID string, n int) string { return fmt.Sprintf("%s/tool/%d", nodeID, n) }
func FlowToolChatID(key string) string        { return "tool/" + key }

// IterationKey names the child workflow of an iteration node's i-th item.
func IterationKey(nodeID string, i int) string { return fmt.Sprintf("%s/%d", nodeID, i) }

// Events that cross from the worker that produces them to the API process that answers the
// client, through the stream broker; during a rolling deploy the two may be of different
// versions.
const (
	TokenEvent         = "token"           // a piece of the ending node's answer
	ResultEvent        = "flowgate:result" // a saved answer (a Result)
	RunEvent           = "flowgate:run"    // what a resuming API replica needs to follow a run
	NextAgentFlowEvent = "nextAgentFlow"   // an agentflow node's progress, as Flowise sends it
)
