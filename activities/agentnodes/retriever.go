package agentnodes

import (
	"cmp"
	"context"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/workflows/node"
)

// Retriever is a Retriever node: it searches its document stores with retrieverQuery (or
// the question) and answers with what it found, as text or as documents with metadata.
func (s *Steps) Retriever(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	query := cmp.Or(strings.TrimSpace(text(req, sc, "retrieverQuery")), req.Run.Question)
	stores, _ := n.Inputs["retrieverKnowledgeDocumentStores"].([]any)
	var docs []docstore.Document
	for _, item := range stores {
		m, _ := item.(map[string]any)
		ref := nodekit.ConfigString(m, "documentStore")
		if ref == "" {
			continue
		}
		found, err := s.Lookup(ctx, ref, query)
		if err != nil {
			return node.StepResult{}, nodekit.Annotate(err, "%s", n)
		}
		// Flowise keeps only the last store's documents; every store's count here.
		docs = append(docs, found...)
	}
	content, err := docstore.RetrieverOutput(docs, n.Input("outputFormat"))
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: %v", n, err)
	}
	s.sendWhole(ctx, req, content)
	out := map[string]any{"content": content}
	state, err := withState(req, sc, "retrieverUpdateState", out)
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Input: map[string]any{"question": query}, Output: out, State: state}, nil
}
