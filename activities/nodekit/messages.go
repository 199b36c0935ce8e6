package nodekit

import (
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// ToLLM is a conversation kept in history, as a provider takes it.
func ToLLM(msgs []node.Message) []llm.Message {
	out := make([]llm.Message, len(msgs))
	for i, m := range msgs {
		out[i] = llm.Message{Role: llm.Role(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			out[i].ToolCalls = append(out[i].ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
	}
	return out
}

// FromLLM is a conversation with a provider, as history keeps it.
func FromLLM(msgs []llm.Message) []node.Message {
	out := make([]node.Message, len(msgs))
	for i, m := range msgs {
		out[i] = node.Message{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			out[i].ToolCalls = append(out[i].ToolCalls, node.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
	}
	return out
}

// StoredRole is the provider role of a stored chat message: Flowise's apiMessage is the
// assistant's, anything else the user's.
func StoredRole(role string) llm.Role {
	if role == models.RoleAPI {
		return llm.RoleAssistant
	}
	return llm.RoleUser
}
