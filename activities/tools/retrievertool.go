package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// RetrieverTool searches one document store an Agent knows (agentKnowledgeDocumentStores), or,
// in a chatflow, the vector store retriever wired into the retrieverTool node: the chunks'
// text, followed by the documents themselves when the entry returns source documents (the
// workflow takes those off and reports them as sourceDocuments).
func (t *Tools) RetrieverTool() Tool { return Tool{Offer: offerKnowledge, Run: t.searchKnowledge} }

// ChatflowRetriever is the setting that carries, in a chatflow, the retriever wired into a
// retrieverTool node: the agent loop passes the tool node's inputs as its settings with this
// one replaced by the upstream node.Value's Retriever (a *node.Retriever, or the same as JSON
// or as a decoded JSON object). name, description, returnSourceDocuments and
// retrieverToolMetadataFilter are the node's own inputs, as Flowise names them.
const ChatflowRetriever = "retriever"

// chatflowRetriever reads the retriever a chatflow's retrieverTool settings carry.
func chatflowRetriever(cfg map[string]any) (*node.Retriever, error) {
	var r node.Retriever
	switch v := cfg[ChatflowRetriever].(type) {
	case nil:
		return nil, nil
	case *node.Retriever:
		r = *v
	case node.Retriever:
		r = v
	case string:
		if _, wired := chatflow.InstanceRef(v); wired || v == "" {
			return nil, nodekit.FlowError("retrieverTool: the retriever wired into it was not passed on")
		}
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, nodekit.FlowError("retrieverTool: retriever: %v", err)
		}
	default:
		b, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			return nil, nodekit.FlowError("retrieverTool: retriever: %v", err)
		}
	}
	if r.Store == "" {
		return nil, nodekit.FlowError("retrieverTool: the retriever input must be connected to a vector store retriever")
	}
	// The tool's own filter narrows the store's (Flowise's retrieverToolMetadataFilter).
	if f := cfg["retrieverToolMetadataFilter"]; f != nil && f != "" {
		var extra map[string]any
		switch t := f.(type) {
		case map[string]any:
			extra = t
		case string:
			if err := json.Unmarshal([]byte(t), &extra); err != nil {
				return nil, nodekit.FlowError("retrieverTool: retrieverToolMetadataFilter is not a JSON object: %v", err)
			}
		}
		merged := map[string]any{}
		for k, v := range r.Filter {
			merged[k] = v
		}
		for k, v := range extra {
			merged[k] = v
		}
		r.Filter = merged
	}
	return &r, nil
}

func offerKnowledge(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	if r, err := chatflowRetriever(e.Config); err != nil || r != nil {
		if err != nil {
			return nil, err
		}
		name := cmp.Or(agentflow.SanitizeToolName(nodekit.ConfigString(e.Config, "name")), "retriever")
		return []llm.Tool{{Name: name[:min(len(name), 64)], Description: nodekit.ConfigString(e.Config, "description"),
			Parameters: json.RawMessage(docstore.ToolInputSchema)}}, nil
	}
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
	r, err := chatflowRetriever(cfg)
	if err != nil {
		return "", err
	}
	var docs []docstore.Document
	if r != nil {
		found, err := t.Retrieve(ctx, r, query)
		if err != nil {
			return "", err
		}
		for _, d := range found {
			docs = append(docs, docstore.Document{PageContent: d.PageContent, Metadata: d.Metadata})
		}
	} else if docs, err = t.Lookup(ctx, nodekit.ConfigString(cfg, "documentStore"), query); err != nil {
		return "", err
	}
	return docstore.ToolOutput(docs, agentflow.Truthy(cfg["returnSourceDocuments"]))
}
