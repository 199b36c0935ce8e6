package agentnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// DirectReply answers with its message, streamed whole when it answers a streaming request.
func (s *Steps) DirectReply(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	reply := text(req, scope(req), "directReplyMessage")
	s.sendWhole(ctx, req, reply)
	return node.StepResult{Output: map[string]any{"content": reply}}, nil
}
