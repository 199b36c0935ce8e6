package llmmock

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmbeddingsRoute(t *testing.T) {
	s := NewTestServer(t, Options{})
	resp := post(t, s.URL+"/embeddings", `{"model":"m","input":"Cats purr","dimensions":8}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Len(t, body.Data, 1)
	require.Equal(t, Embedding("cats PURR!", 8), body.Data[0].Embedding, "case and punctuation do not matter")
	require.Equal(t, []string{"Cats purr"}, s.Requests()[0].Input)

	require.InDelta(t, 1.0, dot(Embedding("a b c", 0), Embedding("c b a", 0)), 1e-6, "a bag of words")
	require.Equal(t, make([]float32, EmbeddingDimensions), Embedding("  ", 0))

	resp = post(t, s.URL+"/v1/embeddings", `{"model":"m","input":[]}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func dot(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}
