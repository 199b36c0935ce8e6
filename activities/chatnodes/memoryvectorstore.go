package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/knowledge/vectorindex"
	"github.com/flowgate/flowgate/workflows/node"
)

// MemoryVectorStore indexes the documents wired into it, as Flowise's in-memory store does at
// every prediction. Flowise keeps that index in one process's memory; Flowgate keeps it in
// storage under the documents' content hash, so every worker searches the same index and the
// same documents are embedded once, not at every turn.
func (n *Nodes) MemoryVectorStore(ctx context.Context, req node.Request) (node.Value, error) {
	key := func(emb *node.Component, docs []node.Document) (string, error) {
		texts := make([]string, len(docs))
		metas := make([]map[string]any, len(docs))
		for i, d := range docs {
			texts[i], metas[i] = d.PageContent, d.Metadata
		}
		return vectorindex.ContentKey(req.Run.ChatflowID, req.Node.ID, nodekit.EmbeddingName(emb), texts, metas)
	}
	return n.vectorStore(ctx, req, key, true)
}
