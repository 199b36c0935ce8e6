package agentnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// LLM asks the node's model with its messages; the question is the user's message when
// the node has none of its own.
func (s *Steps) LLM(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	return s.modelStep(ctx, req, "llm")
}
