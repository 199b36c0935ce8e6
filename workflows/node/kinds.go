package node

import (
	"slices"
)

// Family is what a kind is to Flowgate: which interpreter uses it, which activity contract it
// has, and which folder of activities/ holds its code.
type Family uint8

const (
	// ChatModel is a chat-model node: in a chatflow it configures the model the chain or
	// agent it feeds calls (activity node.<kind>, Request → Value); an agentflow node picks
	// one by name. Code: activities/chatmodels, a method returning chatmodels.Model.
	ChatModel Family = iota + 1
	// ChatNode is any other node of a classic chatflow (activity node.<kind>, Request →
	// Value). Code: activities/chatnodes, a method of *chatnodes.Nodes.
	ChatNode
	// AgentStep is a node of an agentflow (activity node.<kind>, StepRequest → StepResult).
	// Code: activities/agentnodes, a method of *agentnodes.Steps.
	AgentStep
	// Tool is a tool an agent offers its model (activity tool.<kind>, ToolRequest → string).
	// Code: activities/tools, a method of *tools.Tools returning a tools.Tool.
	Tool
	// FlowTool is a tool that runs another flow (activity tool.<kind>, ToolRequest →
	// ChildFlow): the workflow runs that flow as a child workflow. Code: as Tool, returning a
	// tools.FlowTool.
	FlowTool
)

func (f Family) String() string {
	switch f {
	case ChatModel:
		return "chat model"
	case ChatNode:
		return "chatflow node"
	case AgentStep:
		return "agentflow node"
	case Tool, FlowTool:
		return "tool"
	}
	return "unknown family"
}

// Kind is one row of the kinds table.
type Kind struct {
	// Name is Flowise's name of the node or tool (data.name, agentSelectedTool).
	Name   string
	Family Family
	// Run names the code that runs the kind: the method of its family's type (see Family).
	// Empty for an agentflow node the workflow handles itself, without an activity.
	Run string
	// CallsOut marks kinds that call a model, a tool or the network: slow, costly and worth
	// retrying on another worker, they run as regular activities in agentflows (and in
	// chatflow runs from before node.PredictionVersion, and as an agent's turns), and are
	// watched for aborts when a chatflow runs them locally. The others only compute or read
	// the database and run as local activities inside the workflow task. Workflow histories
	// record the choice: changing it for a kind breaks the replay of runs in flight unless the
	// workflow chooses by a version.
	CallsOut bool
	// CallsTools marks chat models whose API can call tools, which agents need.
	CallsTools bool
	// Refusal, when set, is why Flowgate does not run a kind it knows: the node is accepted in
	// a flow (as Flowise's editor saves it) but refuses to work, saying this; surveys of
	// flows (flowgate check, saving a flow) report it as not running.
	Refusal string
	// SecretInputs are inputs that hold a secret in the flow itself, for kinds whose
	// Flowise node has no credential to keep it in: they are kept out of workflow history
	// (RedactSecretInputs) and read from the saved flow when the node runs.
	SecretInputs []string
	// ToolNode marks tools an agentflow Tool node may run on its own: one function,
	// configured in the node (not a toolkit's many, nor one that needs an agent's knowledge).
	ToolNode bool
	// Chatflow marks tools that work as tool nodes of a classic chatflow, wired into an
	// agent's tools input: their settings are the node's own inputs (node.ToolNode).
	Chatflow bool
	// Agent marks classic chatflow agents: the workflow runs their model turns and their tool
	// calls as a loop, each its own activity (node.Value.Agent).
	Agent bool
}

// noLocalDisk is why Flowise's file tools do not run: workers are interchangeable and share
// no disk with the flow's author, so a file one call writes another cannot read, and a flow
// must not reach a worker's own files.
const noLocalDisk = "Flowgate gives flows no local disk to read or write files (use a document store, or a custom tool calling an API)"

// kinds is every kind Flowgate runs, and the only list of them: activities register from it,
// flow validation and refusal messages read it. A new kind is one row here and one file in
// its family's folder.
var kinds = []Kind{
	// Chat models.
	{Name: "azureChatOpenAI", Family: ChatModel, Run: "AzureChatOpenAI", CallsTools: true},
	{Name: "chatAnthropic", Family: ChatModel, Run: "ChatAnthropic", CallsTools: true},
	{Name: "chatDeepseek", Family: ChatModel, Run: "ChatDeepseek", CallsTools: true},
	{Name: "chatGoogleGenerativeAI", Family: ChatModel, Run: "ChatGoogleGenerativeAI", CallsTools: true},
	{Name: "chatMistralAI", Family: ChatModel, Run: "ChatMistralAI", CallsTools: true},
	{Name: "chatOllama", Family: ChatModel, Run: "ChatOllama", CallsTools: true},
	{Name: "chatOpenAI", Family: ChatModel, Run: "ChatOpenAI", CallsTools: true},
	{Name: "groqChat", Family: ChatModel, Run: "GroqChat", CallsTools: true},

	// Classic chatflow nodes.
	{Name: "bufferMemory", Family: ChatNode, Run: "BufferMemory"},
	{Name: "bufferWindowMemory", Family: ChatNode, Run: "BufferWindowMemory"},
	{Name: "chatPromptTemplate", Family: ChatNode, Run: "ChatPromptTemplate"},
	{Name: "conversationChain", Family: ChatNode, Run: "ConversationChain", CallsOut: true},
	{Name: "conversationalAgent", Family: ChatNode, Run: "ConversationalAgent", CallsOut: true, Agent: true},
	{Name: "llmChain", Family: ChatNode, Run: "LLMChain", CallsOut: true},
	{Name: "openAIToolAgent", Family: ChatNode, Run: "OpenAIToolAgent", CallsOut: true, Agent: true},
	{Name: "promptTemplate", Family: ChatNode, Run: "PromptTemplate"},
	{Name: "reactAgentChat", Family: ChatNode, Run: "ReactAgentChat", CallsOut: true, Agent: true},
	{Name: "toolAgent", Family: ChatNode, Run: "ToolAgent", CallsOut: true, Agent: true},
	// Output parsers, moderation, Redis memory, utilities and the SQL chain (issue #14).
	// Parsers and moderations only hand on settings: the chain applies them.
	{Name: "RedisBackedChatMemory", Family: ChatNode, Run: "RedisBackedChatMemory", CallsOut: true, SecretInputs: []string{"redisUrl"}},
	{Name: "advancedStructuredOutputParser", Family: ChatNode, Run: "AdvancedStructuredOutputParser"},
	{Name: "csvOutputParser", Family: ChatNode, Run: "CSVOutputParser"},
	{Name: "customFunction", Family: ChatNode, Run: "CustomFunction", CallsOut: true},
	{Name: "customListOutputParser", Family: ChatNode, Run: "CustomListOutputParser"},
	{Name: "getVariable", Family: ChatNode, Run: "GetVariable"},
	{Name: "ifElseFunction", Family: ChatNode, Run: "IfElseFunction", CallsOut: true},
	{Name: "inputModerationOpenAI", Family: ChatNode, Run: "InputModerationOpenAI"},
	{Name: "inputModerationSimple", Family: ChatNode, Run: "InputModerationSimple"},
	{Name: "setVariable", Family: ChatNode, Run: "SetVariable"},
	{Name: "sqlDatabaseChain", Family: ChatNode, Run: "SQLDatabaseChain", CallsOut: true, SecretInputs: []string{"url"}},
	{Name: "structuredOutputParser", Family: ChatNode, Run: "StructuredOutputParser"},

	// Retrieval in classic chatflows: loaders, text splitters, embeddings, vector stores,
	// retrievers and retrieval chains. Vector stores call out: they embed (at upsert, and the
	// in-memory one at prediction) or connect to their database.
	// File loaders call out too: they read a file from storage and parse it, which may take
	// longer than a workflow task should be held for.
	{Name: "cheerioWebScraper", Family: ChatNode, Run: "CheerioWebScraper", CallsOut: true},
	{Name: "csvFile", Family: ChatNode, Run: "CsvFile", CallsOut: true},
	{Name: "documentStore", Family: ChatNode, Run: "DocumentStore"},
	{Name: "docxFile", Family: ChatNode, Run: "DocxFile", CallsOut: true},
	{Name: "jsonFile", Family: ChatNode, Run: "JsonFile", CallsOut: true},
	{Name: "pdfFile", Family: ChatNode, Run: "PdfFile", CallsOut: true}, // parsed in a child process, up to 30 s
	{Name: "plainText", Family: ChatNode, Run: "PlainText"},
	{Name: "textFile", Family: ChatNode, Run: "TextFile", CallsOut: true},
	{Name: "characterTextSplitter", Family: ChatNode, Run: "CharacterTextSplitter"},
	{Name: "markdownTextSplitter", Family: ChatNode, Run: "MarkdownTextSplitter"},
	{Name: "recursiveCharacterTextSplitter", Family: ChatNode, Run: "RecursiveCharacterTextSplitter"},
	{Name: "tokenTextSplitter", Family: ChatNode, Run: "TokenTextSplitter"},
	{Name: "azureOpenAIEmbeddings", Family: ChatNode, Run: "AzureOpenAIEmbeddings"},
	{Name: "googleGenerativeAiEmbeddings", Family: ChatNode, Run: "GoogleGenerativeAiEmbeddings"},
	{Name: "localAIEmbeddings", Family: ChatNode, Run: "LocalAIEmbeddings"},
	{Name: "mistralAIEmbeddings", Family: ChatNode, Run: "MistralAIEmbeddings"},
	{Name: "ollamaEmbedding", Family: ChatNode, Run: "OllamaEmbedding"},
	{Name: "openAIEmbeddings", Family: ChatNode, Run: "OpenAIEmbeddings"},
	{Name: "documentStoreVS", Family: ChatNode, Run: "DocumentStoreVS"},
	{Name: "faiss", Family: ChatNode, Run: "Faiss", CallsOut: true},
	{Name: "memoryVectorStore", Family: ChatNode, Run: "MemoryVectorStore", CallsOut: true},
	{Name: "postgres", Family: ChatNode, Run: "Postgres", CallsOut: true},
	{Name: "vectorStoreRetriever", Family: ChatNode, Run: "VectorStoreRetriever"},
	{Name: "conversationalRetrievalQAChain", Family: ChatNode, Run: "ConversationalRetrievalQAChain", CallsOut: true},
	{Name: "retrievalQAChain", Family: ChatNode, Run: "RetrievalQAChain", CallsOut: true},

	// Agentflow (v2) nodes.
	{Name: "agentAgentflow", Family: AgentStep, Run: "Agent", CallsOut: true},
	{Name: "conditionAgentAgentflow", Family: AgentStep, Run: "ConditionAgent", CallsOut: true},
	{Name: "conditionAgentflow", Family: AgentStep, Run: "Condition"},
	{Name: "customFunctionAgentflow", Family: AgentStep, Run: "CustomFunction", CallsOut: true},
	{Name: "directReplyAgentflow", Family: AgentStep, Run: "DirectReply"},
	{Name: "executeFlowAgentflow", Family: AgentStep, Run: "ExecuteFlow", CallsOut: true},
	{Name: "httpAgentflow", Family: AgentStep, Run: "HTTP", CallsOut: true},
	{Name: "humanInputAgentflow", Family: AgentStep, Run: "HumanInput"},
	{Name: "iterationAgentflow", Family: AgentStep, Run: "Iteration"},
	{Name: "llmAgentflow", Family: AgentStep, Run: "LLM", CallsOut: true},
	{Name: "loopAgentflow", Family: AgentStep}, // the workflow's own jump back
	{Name: "retrieverAgentflow", Family: AgentStep, Run: "Retriever", CallsOut: true},
	{Name: "startAgentflow", Family: AgentStep, Run: "Start"},
	{Name: "toolAgentflow", Family: AgentStep, Run: "Tool", CallsOut: true},

	// Tools. Every tool call is a regular activity: each one is its own step of the agent.
	{Name: "ChatflowTool", Family: FlowTool, Run: "ChatflowTool", CallsOut: true, Chatflow: true},
	{Name: "agentAsTool", Family: FlowTool, Run: "AgentAsTool", CallsOut: true},
	{Name: "calculator", Family: Tool, Run: "Calculator", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "chainTool", Family: Tool, Run: "ChainTool", CallsOut: true, Chatflow: true},
	{Name: "currentDateTime", Family: Tool, Run: "CurrentDateTime", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "customTool", Family: Tool, Run: "CustomTool", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "gmail", Family: Tool, Run: "Gmail", CallsOut: true, ToolNode: true},
	{Name: "googleCustomSearch", Family: Tool, Run: "GoogleCustomSearch", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "openAPIToolkit", Family: Tool, Run: "OpenAPIToolkit", CallsOut: true, Chatflow: true},
	{Name: "readFile", Family: Tool, Run: "ReadFile", CallsOut: true, Chatflow: true, Refusal: noLocalDisk},
	{Name: "requestsDelete", Family: Tool, Run: "RequestsDelete", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "requestsGet", Family: Tool, Run: "RequestsGet", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "requestsPost", Family: Tool, Run: "RequestsPost", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "requestsPut", Family: Tool, Run: "RequestsPut", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "retrieverTool", Family: Tool, Run: "RetrieverTool", CallsOut: true, Chatflow: true},
	{Name: "serpAPI", Family: Tool, Run: "SerpAPI", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "serper", Family: Tool, Run: "Serper", CallsOut: true, ToolNode: true, Chatflow: true},
	{Name: "writeFile", Family: Tool, Run: "WriteFile", CallsOut: true, Chatflow: true, Refusal: noLocalDisk},
}

// Kinds lists every kind, in the table's order.
func Kinds() []Kind { return slices.Clone(kinds) }

// Lookup returns the kind called name.
func Lookup(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Is reports whether name is a kind of one of families.
func Is(name string, families ...Family) bool {
	return lookupIs(name, func(k Kind) bool { return slices.Contains(families, k.Family) })
}

// InChatflow reports whether a classic chatflow may use a node of kind name: a chat model,
// a chatflow node, or a tool that works as a chatflow's tool node.
func InChatflow(name string) bool {
	return Is(name, ChatModel, ChatNode) || lookupIs(name, func(k Kind) bool { return k.Chatflow })
}

// IsAgent reports whether kind name is a classic chatflow agent (Kind.Agent).
func IsAgent(name string) bool { return lookupIs(name, func(k Kind) bool { return k.Agent }) }

// CallsOut reports whether kind name runs as a regular activity (see Kind.CallsOut).
func CallsOut(name string) bool { return lookupIs(name, func(k Kind) bool { return k.CallsOut }) }

// Names lists the names of the kinds of the given families, in the table's order.
func Names(families ...Family) []string {
	return namesWhere(func(k Kind) bool { return slices.Contains(families, k.Family) })
}

// ToolModels lists the chat models agents can call tools through.
func ToolModels() []string { return namesWhere(func(k Kind) bool { return k.CallsTools }) }

// ToolNodeTools lists the tools an agentflow Tool node may run on its own.
func ToolNodeTools() []string { return namesWhere(func(k Kind) bool { return k.ToolNode }) }

func namesWhere(keep func(Kind) bool) []string {
	var out []string
	for _, k := range kinds {
		if keep(k) {
			out = append(out, k.Name)
		}
	}
	return out
}

// lookupIs reports whether name is a kind for which is holds.
func lookupIs(name string, is func(Kind) bool) bool {
	k, ok := Lookup(name)
	return ok && is(k)
}
