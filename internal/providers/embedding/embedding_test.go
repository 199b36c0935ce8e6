package embedding

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestOpenAIAgainstMock(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cfg, err := FromFlowise(OpenAI, map[string]any{"basepath": mock.URL + "/v1", "batchSize": "2"}, map[string]string{"openAIApiKey": "sk-test"})
	require.NoError(t, err)
	c, err := New(cfg, nil)
	require.NoError(t, err)
	require.Equal(t, DefaultOpenAIModel, c.Model(), "Flowise's default model")

	texts := []string{"the cat sat on the mat", "quarterly revenue grew", "a cat on a mat"}
	vecs, err := c.EmbedDocuments(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, vecs, 3)
	for i, v := range vecs {
		require.Equal(t, llmmock.Embedding(texts[i], 0), v, "vectors arrive in input order")
	}
	require.Greater(t, cosine(vecs[0], vecs[2]), cosine(vecs[0], vecs[1]))

	reqs := mock.Requests()
	require.Len(t, reqs, 2, "batchSize 2 sends two requests for three texts")
	require.Equal(t, "/v1/embeddings", reqs[0].Path)
	require.Equal(t, DefaultOpenAIModel, reqs[0].Model)
	require.Equal(t, texts[:2], reqs[0].Input)
	require.Equal(t, "Bearer sk-test", reqs[0].Headers.Get("Authorization"))

	q, err := c.EmbedQuery(context.Background(), "cat")
	require.NoError(t, err)
	require.Len(t, q, llmmock.EmbeddingDimensions)
}

func TestOpenAIErrorsAreClassified(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	c, err := New(Config{Provider: OpenAI, APIKey: "sk-secret", BaseURL: mock.URL + "/v1"}, nil)
	require.NoError(t, err)

	mock.FailNext(1, http.StatusUnauthorized)
	_, err = c.EmbedQuery(context.Background(), "x")
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusUnauthorized, e.StatusCode)
	require.False(t, e.Retryable)
	require.NotContains(t, err.Error(), "sk-secret")

	mock.FailNext(1, http.StatusServiceUnavailable)
	_, err = c.EmbedQuery(context.Background(), "x")
	require.ErrorAs(t, err, &e)
	require.True(t, e.Retryable)
}

func TestOllamaAgainstMock(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cfg, err := FromFlowise(Ollama, map[string]any{"baseUrl": mock.URL, "modelName": "nomic-embed-text"}, nil)
	require.NoError(t, err)
	c, err := New(cfg, nil)
	require.NoError(t, err)
	vecs, err := c.EmbedDocuments(context.Background(), []string{"alpha beta", "gamma"})
	require.NoError(t, err)
	require.Equal(t, llmmock.Embedding("gamma", 0), vecs[1])
	require.Equal(t, "/api/embed", mock.Requests()[0].Path)
}

func TestDeadline(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{Delay: 10 * time.Second})
	c, err := New(Config{Provider: OpenAI, APIKey: "k", BaseURL: mock.URL + "/v1", Timeout: 50 * time.Millisecond}, nil)
	require.NoError(t, err)
	_, err = c.EmbedQuery(context.Background(), "x")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Provider: OpenAI}, nil)
	require.ErrorIs(t, err, ErrConfig)
	_, err = New(Config{Provider: "cohereEmbeddings"}, nil)
	require.ErrorIs(t, err, ErrConfig)
	_, err = New(Config{Provider: OpenAI, APIKey: "k", BaseURL: "ftp://x"}, nil)
	require.ErrorIs(t, err, ErrConfig)
	_, err = FromFlowise(OpenAI, map[string]any{"dimensions": "many"}, nil)
	require.ErrorIs(t, err, ErrConfig)
	require.Equal(t, "cred-1", Credential(map[string]any{"credential": "cred-1"}))
	require.Equal(t, "cred-2", Credential(map[string]any{"credentialId": "cred-2"}))
}
