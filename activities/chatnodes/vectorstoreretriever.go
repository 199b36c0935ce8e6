package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// VectorStoreRetriever names the vector store wired into it (name, description), for a
// retriever tool to offer; it searches that store.
func (n *Nodes) VectorStoreRetriever(_ context.Context, req node.Request) (node.Value, error) {
	r, err := retrieverOf(req, "vectorStore")
	if err != nil {
		return node.Value{}, err
	}
	named := *r
	named.Name, named.Description = req.Node.Input("name"), req.Node.Input("description")
	return node.Value{Kind: req.Node.Data.Name, Retriever: &named}, nil
}
