package embedding

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// TestEveryProviderSpeaksItsOwnAPI embeds through each node's wire protocol against the mock.
func TestEveryProviderSpeaksItsOwnAPI(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cases := []struct {
		node   string
		inputs map[string]any
		cred   map[string]string
		path   string
		header [2]string
	}{
		{Azure, map[string]any{"basepath": mock.URL + "/openai/deployments"},
			map[string]string{"azureOpenAIApiKey": "az", "azureOpenAIApiDeploymentName": "emb", "azureOpenAIApiVersion": "2024-02-01"},
			"/openai/deployments/emb/embeddings", [2]string{"api-key", "az"}},
		{LocalAI, map[string]any{"basePath": mock.URL + "/v1", "modelName": "bert"}, nil, "/v1/embeddings", [2]string{}},
		{Mistral, map[string]any{"overrideEndpoint": mock.URL + "/v1"}, map[string]string{"mistralAIAPIKey": "ms"},
			"/v1/embeddings", [2]string{"Authorization", "Bearer ms"}},
		{Google, map[string]any{"baseUrl": mock.URL}, map[string]string{"googleGenerativeAPIKey": "gk"},
			"/v1beta/models/gemini-embedding-001:batchEmbedContents", [2]string{"x-goog-api-key", "gk"}},
	}
	for _, tc := range cases {
		t.Run(tc.node, func(t *testing.T) {
			mock.Reset()
			cfg, err := FromFlowise(tc.node, tc.inputs, tc.cred)
			require.NoError(t, err)
			c, err := New(cfg, nil)
			require.NoError(t, err)
			vecs, err := c.EmbedDocuments(context.Background(), []string{"red apples", "green pears"})
			require.NoError(t, err)
			require.Equal(t, [][]float32{llmmock.Embedding("red apples", 0), llmmock.Embedding("green pears", 0)}, vecs)
			reqs := mock.Requests()
			require.Len(t, reqs, 1)
			require.Equal(t, tc.path, reqs[0].Path)
			require.Equal(t, []string{"red apples", "green pears"}, reqs[0].Input)
			if tc.header[0] != "" {
				require.Equal(t, tc.header[1], reqs[0].Headers.Get(tc.header[0]))
			}
		})
	}
	_, err := FromFlowise("cohereEmbeddings", nil, nil)
	require.ErrorIs(t, err, ErrConfig)
}
