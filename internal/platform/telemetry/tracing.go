package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
)

// Span attributes Flowgate sets. They name the flow, the chat and the node, never what was
// said: prompts and answers go on a chat model node's span only with
// FLOWGATE_OTEL_CAPTURE_CONTENT=true (PromptAttr, CompletionAttr); the provider call's span
// (internal/providers/llm) carries the model and token counts only.
const (
	ChatflowIDAttr = attribute.Key("flowise.chatflow.id")
	ChatIDAttr     = attribute.Key("flowise.chat.id")
	SessionIDAttr  = attribute.Key("flowise.session.id")
	NodeIDAttr     = attribute.Key("flowise.node.id")
	NodeKindAttr   = attribute.Key("flowise.node.kind")
	StreamingAttr  = attribute.Key("flowise.streaming")
	// PromptAttr and CompletionAttr carry content, with capture on only.
	PromptAttr     = attribute.Key("gen_ai.prompt")
	CompletionAttr = attribute.Key("gen_ai.completion")
)
