package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// GoogleGenerativeAiEmbeddings hands on Google Generative AI embeddings settings to the vector store it is wired into.
func (n *Nodes) GoogleGenerativeAiEmbeddings(_ context.Context, req node.Request) (node.Value, error) {
	return embeddings(req)
}
