package tools

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// RetrieverTool searches one document store an Agent knows (agentKnowledgeDocumentStores):
// the chunks' text, followed by the documents themselves when the entry returns source
// documents (the workflow takes those off and reports them as sourceDocuments).
func (t *Tools) RetrieverTool() Tool { return Tool{Offer: offerKnowledge, Run: t.searchKnowledge} }

func offerKnowledge(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	id, name := docstore.ParseStoreRef(nodekit.ConfigString(e.Config, "documentStore"))
	return []llm.Tool{{Name: docstore.ToolName(name, id), Description: nodekit.ConfigString(e.Config, "docStoreDescription"),
		Parameters: json.RawMessage(docstore.ToolInputSchema)}}, nil
}

func (t *Tools) searchKnowledge(ctx context.Context, req node.ToolRequest) (string, error) {
	cfg := config(req)
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	query, _ := args["input"].(string)
	if strings.TrimSpace(query) == "" {
		return "", nodekit.FlowError("%s: give the input to look up", req.Call.Name)
	}
	docs, err := t.Lookup(ctx, nodekit.ConfigString(cfg, "documentStore"), query)
	if err != nil {
		return "", err
	}
	return docstore.ToolOutput(docs, agentflow.Truthy(cfg["returnSourceDocuments"]))
}
