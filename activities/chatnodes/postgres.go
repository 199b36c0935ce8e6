package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// Postgres is Flowise's postgres vector store over pgvector (host, database, port, ssl,
// tableName, a PostgresApi credential). A database without the extension fails the node with
// an error that says so, at upsert and at prediction.
func (n *Nodes) Postgres(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	v, id, ok := upstream(req, "embeddings")
	if !ok || v.Embeddings == nil {
		return node.Value{}, nodekit.FlowError("%s: input embeddings must be connected to an embeddings node (got %q)", nd.ID, id)
	}
	filter, err := metadataFilter(nd)
	if err != nil {
		return node.Value{}, err
	}
	pg := component(req)
	out := node.Value{Kind: nd.Data.Name, Retriever: &node.Retriever{Store: nd.Data.Name, Postgres: pg, Embeddings: v.Embeddings,
		TopK: topK(nd), Filter: filter}}
	if !req.Upsert {
		return out, n.PgvectorCheck(ctx, pg)
	}
	docs := documentsOf(req, "document")
	if err := n.PgvectorCheck(ctx, pg); err != nil { // before paying for the embeddings
		return node.Value{}, err
	}
	_, vecs, err := n.embedDocuments(ctx, v.Embeddings, docs)
	if err != nil {
		return node.Value{}, err
	}
	if err := n.PgvectorAdd(ctx, pg, docs, vecs); err != nil {
		return node.Value{}, err
	}
	out.Upserted = &node.VectorAdded{NumAdded: len(docs), AddedDocs: docs}
	return out, nil
}
