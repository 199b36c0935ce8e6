package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// AzureOpenAIEmbeddings hands on Azure OpenAI embeddings settings to the vector store it is wired into.
func (n *Nodes) AzureOpenAIEmbeddings(_ context.Context, req node.Request) (node.Value, error) {
	return embeddings(req)
}
