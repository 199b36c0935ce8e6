package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/internal/knowledge/vectorindex"
	"github.com/flowgate/flowgate/workflows/node"
)

// Faiss is Flowise's Faiss store. Flowise saves the index in a local directory (basePath);
// Flowgate saves it in storage, keyed by the flow, the node and basePath, so every worker of
// queue mode searches what the upsert wrote. An upsert replaces the index, as Flowise's does.
func (n *Nodes) Faiss(ctx context.Context, req node.Request) (node.Value, error) {
	key := func(*node.Component, []node.Document) (string, error) {
		return vectorindex.Key(req.Run.ChatflowID, req.Node.ID, req.Node.Input("basePath"))
	}
	return n.vectorStore(ctx, req, key, false)
}
