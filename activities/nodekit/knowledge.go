package nodekit

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Stores is the document-store service over the activities' database and credentials.
func (d *Deps) Stores() *docstore.Service {
	return docstore.New(d.Store, docstore.CipherSecrets(d.Store, d.Cipher), nil)
}

// Lookup returns the chunks of a document store ("<id>:<name>", as agentflow knowledge names
// it) most similar to query. A store that is missing or unusable is the flow's mistake, which
// an agent reads as its tool's answer.
func (d *Deps) Lookup(ctx context.Context, storeRef, query string) ([]docstore.Document, error) {
	id, name := docstore.ParseStoreRef(storeRef)
	docs, err := d.Stores().Search(ctx, id, query, 0)
	if err == nil {
		return docs, nil
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, FlowError("document store %s (%s) not found; upsert it first", name, id)
	}
	err = KnowledgeError(err)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && (app.Type() == node.ErrInvalid || app.Type() == node.ErrNotFound) {
		return nil, FlowError("document store %s: %s", name, app.Message())
	}
	return nil, Annotate(err, "document store %s", name)
}

// KnowledgeError types a document-store failure for the retry policy and for the API's answer:
// a request that cannot succeed (InvalidRequest), a store or loader that does not exist
// (NotFound), a credential that cannot be read, a provider that refused; anything else is
// retried.
func KnowledgeError(err error) error {
	var ee *embedding.Error
	switch {
	case errors.Is(err, docstore.ErrInvalid), errors.Is(err, embedding.ErrConfig):
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrInvalid, nil)
	case errors.Is(err, models.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrNotFound, nil)
	case errors.Is(err, secrets.ErrDecrypt):
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrCredential, nil)
	case errors.As(err, &ee) && !ee.Retryable:
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrProvider, nil)
	case errors.As(err, &ee):
		return temporal.NewApplicationError(err.Error(), node.ErrProviderUnavailable)
	}
	return fmt.Errorf("document store: %w", err)
}
