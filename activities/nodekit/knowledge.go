package nodekit

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Lookup returns the chunks of a document store ("<id>:<name>", as agentflow knowledge names
// it) most similar to query.
func (d *Deps) Lookup(ctx context.Context, storeRef, query string) ([]docstore.Document, error) {
	id, name := docstore.ParseStoreRef(storeRef)
	stores := docstore.New(d.Store, docstore.CipherSecrets(d.Store, d.Cipher), nil)
	docs, err := stores.Search(ctx, id, query, 0)
	var ee *embedding.Error
	switch {
	case err == nil:
		return docs, nil
	case errors.Is(err, models.ErrNotFound):
		return nil, FlowError("document store %s (%s) not found; upsert it first", name, id)
	case errors.Is(err, docstore.ErrInvalid), errors.Is(err, embedding.ErrConfig):
		return nil, FlowError("document store %s: %v", name, err)
	case errors.As(err, &ee) && !ee.Retryable:
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("document store %s: %v", name, err), node.ErrProvider, nil)
	}
	return nil, fmt.Errorf("search document store %s: %w", name, err)
}
