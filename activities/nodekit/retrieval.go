package nodekit

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/internal/knowledge/vectorindex"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/workflows/node"
)

// Embedder builds the embeddings client an embeddings node's settings describe, decrypting its
// credential here, inside the activity that calls the provider.
func (d *Deps) Embedder(ctx context.Context, c *node.Component) (*embedding.Client, error) {
	if c == nil {
		return nil, FlowError("no embeddings node is connected")
	}
	sec, err := d.Secret(ctx, c.CredentialID)
	if err != nil {
		return nil, err
	}
	cfg, err := embedding.FromFlowise(c.Kind, c.Inputs, sec)
	if err != nil {
		return nil, KnowledgeError(err)
	}
	client, err := embedding.New(cfg, nil)
	if err != nil {
		return nil, KnowledgeError(err)
	}
	return client, nil
}

// EmbeddingName names the provider and model of an embeddings node, as an index records it.
func EmbeddingName(c *node.Component) string {
	model, _ := c.Inputs["modelName"].(string)
	return c.Kind + " " + model
}

// Retrieve returns the documents of the vector store r describes most similar to query, best
// first: what a retriever hands a chain, and what the retriever tool hands a model.
func (d *Deps) Retrieve(ctx context.Context, r *node.Retriever, query string) ([]node.Document, error) {
	k := r.TopK
	if k <= 0 {
		k = 4
	}
	switch r.Store {
	case "documentStoreVS":
		// The store's own topK decides how many it finds; the node's filter keeps some.
		docs, err := d.Lookup(ctx, r.StoreID, query)
		if err != nil {
			return nil, err
		}
		var out []node.Document
		for _, doc := range docs {
			if (r.TopK <= 0 || len(out) < r.TopK) && vectorindex.Matches(doc.Metadata, r.Filter) {
				out = append(out, node.Document{PageContent: doc.PageContent, Metadata: doc.Metadata})
			}
		}
		return out, nil
	case "postgres":
		q, err := d.embedQuery(ctx, r, query)
		if err != nil {
			return nil, err
		}
		return d.pgSearch(ctx, r, q, k)
	}
	ix, err := vectorindex.Load(ctx, d.Files, r.IndexKey)
	if errors.Is(err, vectorindex.ErrNoIndex) {
		return nil, FlowError("%s: %v", r.Store, err)
	}
	if err != nil {
		return nil, err
	}
	if want := EmbeddingName(r.Embeddings); ix.Embedding != want {
		return nil, FlowError("%s: its documents were embedded with %s but the flow now embeds with %s; upsert it again", r.Store, ix.Embedding, want)
	}
	q, err := d.embedQuery(ctx, r, query)
	if err != nil {
		return nil, err
	}
	hits, err := ix.Search(q, k, r.Filter)
	if err != nil {
		return nil, FlowError("%s: %v", r.Store, err)
	}
	out := make([]node.Document, len(hits))
	for i, h := range hits {
		out[i] = node.Document{PageContent: h.PageContent, Metadata: h.Metadata}
	}
	return out, nil
}

func (d *Deps) embedQuery(ctx context.Context, r *node.Retriever, query string) ([]float32, error) {
	client, err := d.Embedder(ctx, r.Embeddings)
	if err != nil {
		return nil, err
	}
	q, err := client.EmbedQuery(ctx, query)
	if err != nil {
		return nil, KnowledgeError(fmt.Errorf("embed the query: %w", err))
	}
	return q, nil
}
