package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// LocalAIEmbeddings hands on LocalAI embeddings settings to the vector store it is wired into.
func (n *Nodes) LocalAIEmbeddings(_ context.Context, req node.Request) (node.Value, error) {
	return embeddings(req)
}
