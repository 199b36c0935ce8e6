package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
)

// Span attributes Flowgate sets. They name the flow, the chat and the node, never what was
// said: prompts and answers go on spans only with FLOWGATE_OTEL_CAPTURE_CONTENT=true
// (ContentAttr and the provider call's gen_ai.* attributes).
const (
	ChatflowIDAttr = attribute.Key("flowise.chatflow.id")
	ChatIDAttr     = attribute.Key("flowise.chat.id")
	SessionIDAttr  = attribute.Key("flowise.session.id")
	NodeIDAttr     = attribute.Key("flowise.node.id")
	NodeKindAttr   = attribute.Key("flowise.node.kind")
	StreamingAttr  = attribute.Key("flowise.streaming")
	FlowTypeAttr   = attribute.Key("flowise.flow.type")
	// PromptAttr and CompletionAttr carry content, with capture on only.
	PromptAttr     = attribute.Key("gen_ai.prompt")
	CompletionAttr = attribute.Key("gen_ai.completion")
)
