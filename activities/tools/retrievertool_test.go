package tools

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/knowledge/vectorindex"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// In a chatflow, the retriever tool searches the vector store retriever wired into it, as the
// agent loop passes it in the tool's settings, narrowed by the tool's own metadata filter.
func TestRetrieverToolSearchesAChatflowRetriever(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	files, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	key, err := vectorindex.Key("flow", "faiss_0", "")
	require.NoError(t, err)
	emb := &node.Component{Kind: "ollamaEmbedding", Inputs: map[string]any{"baseUrl": mock.URL, "modelName": "nomic"}}
	ix := &vectorindex.Index{Embedding: nodekit.EmbeddingName(emb)}
	for _, d := range []struct{ text, team string }{
		{"the red team meets on mondays", "red"}, {"the blue team meets on mondays", "blue"}, {"lunch is at noon", "red"},
	} {
		ix.Entries = append(ix.Entries, vectorindex.Entry{PageContent: d.text, Metadata: map[string]any{"team": d.team},
			Vector: llmmock.Embedding(d.text, 0)})
	}
	require.NoError(t, vectorindex.Save(ctx, files, key, ix))

	cfg := map[string]any{
		"name": "Team Meetings", "description": "when teams meet", "returnSourceDocuments": true,
		ChatflowRetriever:             "{{faiss_0.data.instance}}",
		"retrieverToolMetadataFilter": `{"team":"blue"}`,
	}
	wired := map[string]node.Value{"faiss_0": {Kind: "faiss", Retriever: &node.Retriever{Store: "faiss", IndexKey: key, Embeddings: emb, TopK: 1}}}
	offered, err := offerKnowledge(ctx, agentflow.ToolEntry{Config: cfg})
	require.NoError(t, err)
	require.Equal(t, "team_meetings", offered[0].Name)
	require.Equal(t, "when teams meet", offered[0].Description)

	tools := &Tools{Deps: &nodekit.Deps{Files: files}}
	call := node.ToolCall{Name: "team_meetings", Tool: "retrieverTool", Arguments: `{"input":"when does the team meet on mondays"}`}
	out, err := tools.RetrieverTool().Run(ctx, node.ToolRequest{
		Node: agentflow.Node{ID: "agent"}, Call: call,
		Tool: &node.ToolNode{ID: "retrieverTool_0", Kind: "retrieverTool", Config: cfg, Upstream: wired},
	})
	require.NoError(t, err)
	text, sources, _ := strings.Cut(out, agentflow.SourceDocumentsPrefix)
	require.Equal(t, "the blue team meets on mondays", text)
	require.Contains(t, sources, `"team":"blue"`)

	// A retriever written into the settings is not searched: only the node wired in is.
	written := map[string]any{"name": "x", ChatflowRetriever: map[string]any{"store": "faiss", "indexKey": key}}
	_, err = tools.RetrieverTool().Run(ctx, node.ToolRequest{Node: agentflow.Node{ID: "agent"}, Call: call,
		Tool: &node.ToolNode{ID: "retrieverTool_0", Kind: "retrieverTool", Config: written, Upstream: wired}})
	require.ErrorContains(t, err, "must be connected to a vector store retriever")
	cfg[ChatflowRetriever] = "{{other_0.data.instance}}"
	_, err = tools.RetrieverTool().Run(ctx, node.ToolRequest{Node: agentflow.Node{ID: "agent"}, Call: call,
		Tool: &node.ToolNode{ID: "retrieverTool_0", Kind: "retrieverTool", Config: cfg, Upstream: wired}})
	require.ErrorContains(t, err, "is not a vector store retriever")
}
