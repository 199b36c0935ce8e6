package chatnodes

import (
	"context"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// retrievalQASystem is LangChain's chat prompt of the stuff QA chain RetrievalQAChain.fromLLM
// uses with a chat model.
const retrievalQASystem = "Use the following pieces of context to answer the users question. \n" +
	"If you don't know the answer, just say that you don't know, don't try to make up an answer.\n----------------\n"

// RetrievalQAChain answers the question from the documents its retriever finds for it.
func (n *Nodes) RetrievalQAChain(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	r, err := retrieverOf(req, "vectorStoreRetriever")
	if err != nil {
		return node.Value{}, err
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	docs, err := n.Retrieve(ctx, r, question)
	if err != nil {
		return node.Value{}, err
	}
	parts := make([]string, len(docs))
	for i, d := range docs {
		parts[i] = d.PageContent
	}
	msgs := []llm.Message{
		{Role: llm.RoleSystem, Content: retrievalQASystem + strings.Join(parts, "\n\n")},
		{Role: llm.RoleUser, Content: question},
	}
	text, err := n.Chat(ctx, nodekit.Chat{NodeID: nd.ID, Model: model, Messages: msgs, StreamTo: streamTo(req)})
	if err != nil {
		return node.Value{}, err
	}
	return node.TextValue(nd.Data.Name, text), nil
}
