package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// knowledge runs document-store upserts and searches for the API (docstore.upsert,
// docstore.query).
type knowledge struct{ *nodekit.Deps }

func (k knowledge) service() *docstore.Service {
	return docstore.New(k.Store, docstore.CipherSecrets(k.Store, k.Cipher), nil)
}

// Upsert loads, splits, embeds and stores one upsert request's documents.
func (k knowledge) Upsert(ctx context.Context, in node.UpsertInput) (node.UpsertResult, error) {
	req, err := docstore.ParseUpsert(in.Fields)
	if err != nil {
		return node.UpsertResult{}, knowledgeError(err)
	}
	for _, f := range in.Files {
		req.Files = append(req.Files, docstore.File{Name: f.Name, MIME: f.MIME, Data: f.Data})
	}
	if activity.IsActivity(ctx) {
		req.NewDocID = node.DerivedID(activity.GetInfo(ctx).WorkflowExecution.RunID, "loader")
	}
	res, err := k.service().Upsert(ctx, in.StoreID, req)
	if err != nil {
		return node.UpsertResult{}, knowledgeError(err)
	}
	return node.UpsertResult{NumAdded: res.NumAdded, NumDeleted: res.NumDeleted, NumUpdated: res.NumUpdated,
		NumSkipped: res.NumSkipped, DocID: res.DocID}, nil
}

// Query returns the chunks of a store most similar to a query.
func (k knowledge) Query(ctx context.Context, in node.QueryInput) (node.QueryResult, error) {
	docs, err := k.service().Search(ctx, in.StoreID, in.Query, 0)
	if err != nil {
		return node.QueryResult{}, knowledgeError(err)
	}
	out := node.QueryResult{Docs: make([]node.FoundDocument, len(docs))}
	for i, d := range docs {
		out.Docs[i] = node.FoundDocument{PageContent: d.PageContent, Metadata: d.Metadata, ID: d.ID, ChunkNo: d.ChunkNo}
	}
	return out, nil
}

// knowledgeError types a failure for the retry policy and for the API's answer: a request that
// cannot succeed (400), a store or loader that does not exist (404), a provider that refused
// (502); anything else is retried.
func knowledgeError(err error) error {
	var ee *embedding.Error
	switch {
	case errors.Is(err, docstore.ErrInvalid), errors.Is(err, embedding.ErrConfig):
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrInvalid, nil)
	case errors.Is(err, models.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrNotFound, nil)
	case errors.As(err, &ee) && !ee.Retryable:
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrProvider, nil)
	case errors.As(err, &ee):
		return temporal.NewApplicationError(err.Error(), "ProviderUnavailable")
	}
	return fmt.Errorf("document store: %w", err)
}
