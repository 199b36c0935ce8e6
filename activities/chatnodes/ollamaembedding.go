package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// OllamaEmbedding hands on Ollama embeddings settings to the vector store it is wired into.
func (n *Nodes) OllamaEmbedding(_ context.Context, req node.Request) (node.Value, error) {
	return embeddings(req)
}
