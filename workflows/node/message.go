package node

// Message is one message of a conversation, wherever the workflows keep one: a chat's history
// as memory loaded it (roles "userMessage" and "apiMessage", as Flowise stores them), an
// agentflow run's own chat history, and an agent's conversation with its tool calls (roles
// "system", "user", "assistant" and "tool", as the providers name them).
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	// ToolCalls are the calls an assistant turn asked for.
	ToolCalls []ToolCall `json:"toolCalls,omitempty"`
	// ToolCallID is the call a tool message answers.
	ToolCallID string `json:"toolCallId,omitempty"`
}
