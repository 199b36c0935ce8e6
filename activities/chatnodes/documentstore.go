package chatnodes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// DocumentStore loads the chunks of one of Flowgate's document stores (selectedStore) as
// documents. A node with no store selected loads none.
func (n *Nodes) DocumentStore(ctx context.Context, req node.Request) (node.Value, error) {
	id := req.Node.Input("selectedStore")
	if id == "" {
		return loaded(req, nil)
	}
	chunks, err := n.Store.DocumentStoreChunks(ctx, id, "")
	if errors.Is(err, models.ErrNotFound) {
		return node.Value{}, nodekit.FlowError("%s: document store %s not found", req.Node.ID, id)
	}
	if err != nil {
		return node.Value{}, fmt.Errorf("%s: %w", req.Node.ID, err)
	}
	docs := make([]textsplit.Document, len(chunks))
	for i, c := range chunks {
		md := map[string]any{}
		if c.Metadata != nil && *c.Metadata != "" {
			if err := json.Unmarshal([]byte(*c.Metadata), &md); err != nil {
				return node.Value{}, fmt.Errorf("%s: metadata of chunk %s: %w", req.Node.ID, c.ID, err)
			}
		}
		docs[i] = textsplit.Document{PageContent: c.PageContent, Metadata: md}
	}
	// The chunks are split already: the node has no splitter input.
	return loaded(req, docs)
}
