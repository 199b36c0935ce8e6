package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// MistralAIEmbeddings hands on Mistral AI embeddings settings to the vector store it is wired into.
func (n *Nodes) MistralAIEmbeddings(_ context.Context, req node.Request) (node.Value, error) {
	return embeddings(req)
}
