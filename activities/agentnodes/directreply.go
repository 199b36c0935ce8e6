package agentnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// DirectReply answers with its message, streamed whole when it answers a streaming request.
func (s *Steps) DirectReply(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	reply := text(req, scope(req), "directReplyMessage")
	if topic := streamTo(req); topic != "" {
		s.PublishAnswer(ctx, topic, reply)
	}
	return node.StepResult{Output: map[string]any{"content": reply}}, nil
}
