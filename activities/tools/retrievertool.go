package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
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

// ChatflowRetriever is the input of a chatflow's retrieverTool node that the vector store
// retriever is wired into. The tool searches what that node's result describes, which the
// workflow hands the call in the tool node's upstream values (node.ToolNode.Upstream): never a
// retriever written into settings, which would let a flow search another flow's index.
const ChatflowRetriever = "retriever"

// wiredRetriever reports whether a tool's settings are a chatflow retrieverTool node's, whose
// retriever input is wired to another node.
func wiredRetriever(cfg map[string]any) (string, bool) {
	return chatflow.InstanceRef(cfg[ChatflowRetriever])
}

// chatflowRetriever is the retriever wired into the chatflow tool node serving req, narrowed
// by the tool's own filter; nil for an agentflow's retriever tool (document stores).
func chatflowRetriever(req node.ToolRequest) (*node.Retriever, error) {
	if req.Tool == nil {
		return nil, nil
	}
	cfg := req.Tool.Config
	id, wired := wiredRetriever(cfg)
	if !wired {
		return nil, nodekit.FlowError("retrieverTool: the retriever input must be connected to a vector store retriever")
	}
	up := req.Tool.Upstream[id].Retriever
	if up == nil {
		return nil, nodekit.FlowError("retrieverTool: %s is not a vector store retriever", id)
	}
	r := *up
	// The tool's own filter narrows the store's (Flowise's retrieverToolMetadataFilter).
	extra, err := nodekit.ObjectInput(cfg["retrieverToolMetadataFilter"])
	if err != nil {
		return nil, nodekit.FlowError("retrieverTool: retrieverToolMetadataFilter is %v", err)
	}
	if extra != nil {
		merged := maps.Clone(r.Filter)
		if merged == nil {
			merged = map[string]any{}
		}
		maps.Copy(merged, extra)
		r.Filter = merged
	}
	return &r, nil
}

func offerKnowledge(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	if _, chatflowTool := wiredRetriever(e.Config); chatflowTool {
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
	r, err := chatflowRetriever(req)
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
