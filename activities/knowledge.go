package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Knowledge: document stores upserted in advance (package docstore), searched by an Agent's
// retriever tool per store (agentKnowledgeDocumentStores) or by a Retriever node.

// lookup returns the chunks of a document store most similar to query.
func (a *Activities) lookup(ctx context.Context, storeRef, query string) ([]docstore.Document, error) {
	id, name := docstore.ParseStoreRef(storeRef)
	stores := docstore.New(a.Store, docstore.CipherSecrets(a.Store, a.Cipher), nil)
	docs, err := stores.Search(ctx, id, query, 0)
	var ee *embedding.Error
	switch {
	case err == nil:
		return docs, nil
	case errors.Is(err, models.ErrNotFound):
		return nil, flowError("document store %s (%s) not found; upsert it first", name, id)
	case errors.Is(err, docstore.ErrInvalid), errors.Is(err, embedding.ErrConfig):
		return nil, flowError("document store %s: %v", name, err)
	case errors.As(err, &ee) && !ee.Retryable:
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("document store %s: %v", name, err), node.ErrProvider, nil)
	}
	return nil, fmt.Errorf("search document store %s: %w", name, err)
}

func offerKnowledge(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	id, name := docstore.ParseStoreRef(configString(e.Config, "documentStore"))
	return []llm.Tool{{Name: docstore.ToolName(name, id), Description: configString(e.Config, "docStoreDescription"),
		Parameters: json.RawMessage(docstore.ToolInputSchema)}}, nil
}

// searchKnowledge is an Agent's retriever tool: the chunks' text, followed by the documents
// themselves when the entry returns source documents (the workflow takes those off).
func (a *Activities) searchKnowledge(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	cfg := toolConfig(req)
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	query, _ := args["input"].(string)
	if strings.TrimSpace(query) == "" {
		return "", flowError("%s: give the input to look up", req.Call.Name)
	}
	docs, err := a.lookup(ctx, configString(cfg, "documentStore"), query)
	if err != nil {
		return "", err
	}
	return docstore.ToolOutput(docs, agentflow.Truthy(cfg["returnSourceDocuments"]))
}

// retrieverStep is a Retriever node: it searches its document stores with retrieverQuery (or
// the question) and answers with what it found, as text or as documents with metadata.
func (a *Activities) retrieverStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	query := cmp.Or(strings.TrimSpace(text(req, sc, "retrieverQuery")), req.Run.Question)
	stores, _ := n.Inputs["retrieverKnowledgeDocumentStores"].([]any)
	var docs []docstore.Document
	for _, item := range stores {
		m, _ := item.(map[string]any)
		ref := configString(m, "documentStore")
		if ref == "" {
			continue
		}
		found, err := a.lookup(ctx, ref, query)
		if err != nil {
			return agentflow.StepResult{}, annotate(err, "%s", n)
		}
		// Flowise keeps only the last store's documents; every store's count here.
		docs = append(docs, found...)
	}
	content, err := docstore.RetrieverOutput(docs, n.Input("outputFormat"))
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: %v", n, err)
	}
	out := map[string]any{"content": content}
	state, err := withState(req, sc, "retrieverUpdateState", out)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Input: map[string]any{"question": query}, Output: out, State: state}, nil
}
