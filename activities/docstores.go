package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/workflows/node"
)

// knowledge runs document-store upserts and searches for the API (docstore.upsert,
// docstore.query).
type knowledge struct{ *nodekit.Deps }

// Upsert loads, splits, embeds and stores one upsert request's documents.
func (k knowledge) Upsert(ctx context.Context, in node.UpsertInput) (node.UpsertResult, error) {
	req, err := docstore.ParseUpsert(in.Fields)
	if err != nil {
		return node.UpsertResult{}, nodekit.KnowledgeError(err)
	}
	for _, f := range in.Files {
		req.Files = append(req.Files, docstore.File{Name: f.Name, MIME: f.MIME, Data: f.Data})
	}
	if activity.IsActivity(ctx) {
		req.NewDocID = node.DerivedID(activity.GetInfo(ctx).WorkflowExecution.RunID, node.UpsertLoader)
	}
	res, err := k.Stores().Upsert(ctx, in.StoreID, req)
	if err != nil {
		return node.UpsertResult{}, nodekit.KnowledgeError(err)
	}
	return node.UpsertResult{NumAdded: res.NumAdded, NumDeleted: res.NumDeleted, NumUpdated: res.NumUpdated,
		NumSkipped: res.NumSkipped, DocID: res.DocID}, nil
}

// Query returns the chunks of a store most similar to a query.
func (k knowledge) Query(ctx context.Context, in node.QueryInput) (node.QueryResult, error) {
	docs, err := k.Stores().Search(ctx, in.StoreID, in.Query, 0)
	if err != nil {
		return node.QueryResult{}, nodekit.KnowledgeError(err)
	}
	out := node.QueryResult{Docs: make([]node.FoundDocument, len(docs))}
	for i, d := range docs {
		out.Docs[i] = node.FoundDocument{PageContent: d.PageContent, Metadata: d.Metadata, ID: d.ID, ChunkNo: d.ChunkNo}
	}
	return out, nil
}
