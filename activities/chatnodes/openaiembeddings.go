package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// OpenAIEmbeddings hands on OpenAI embeddings settings to the vector store it is wired into.
func (n *Nodes) OpenAIEmbeddings(_ context.Context, req node.Request) (node.Value, error) {
	return embeddings(req)
}
