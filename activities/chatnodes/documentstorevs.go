package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// DocumentStoreVS searches one of Flowgate's document stores (selectedStore) as a vector
// store: the store's own embedding and vectors, upserted through the document store API.
func (n *Nodes) DocumentStoreVS(_ context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	id := nd.Input("selectedStore")
	if id == "" {
		return node.Value{}, nodekit.FlowError("%s: select a document store", nd.ID)
	}
	if req.Upsert {
		return node.Value{}, nodekit.FlowError("%s: a document store is upserted through its own API (POST /api/v1/document-store/upsert/%s)", nd.ID, id)
	}
	filter, err := metadataFilter(nd)
	if err != nil {
		return node.Value{}, err
	}
	// The store's vector store config holds its topK.
	return node.Value{Kind: nd.Data.Name, Retriever: &node.Retriever{Store: nd.Data.Name, StoreID: id, Filter: filter}}, nil
}
