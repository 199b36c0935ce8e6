package vectorindex

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
)

func TestSearchRanksAndFilters(t *testing.T) {
	ix := &Index{Embedding: "openAIEmbeddings m", Entries: []Entry{
		{PageContent: "a", Metadata: map[string]any{"team": "red", "n": 1.0}, Vector: []float32{1, 0}},
		{PageContent: "b", Metadata: map[string]any{"team": "blue"}, Vector: []float32{0.9, 0.1}},
		{PageContent: "c", Metadata: map[string]any{"team": "red"}, Vector: []float32{0, 1}},
	}}
	hits, err := ix.Search([]float32{1, 0}, 2, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, []string{hits[0].PageContent, hits[1].PageContent})
	hits, err = ix.Search([]float32{1, 0}, 4, map[string]any{"team": "red"})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c"}, []string{hits[0].PageContent, hits[1].PageContent})
	hits, err = ix.Search([]float32{1, 0}, 4, map[string]any{"n": 1})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	_, err = ix.Search([]float32{1, 0, 0}, 4, nil)
	require.Error(t, err)
}

func TestSaveLoadAndKeys(t *testing.T) {
	store, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	key, err := Key("flow", "faiss_0", "")
	require.NoError(t, err)
	require.Equal(t, "vectorstores/flow/faiss_0.json", key)
	other, err := Key("flow", "faiss_0", "/tmp/idx")
	require.NoError(t, err)
	require.NotEqual(t, key, other)
	_, err = Load(ctx, store, key)
	require.ErrorIs(t, err, ErrNoIndex)
	ix := &Index{Embedding: "e", Entries: []Entry{{PageContent: "x", Metadata: map[string]any{}, Vector: []float32{1}}}}
	require.NoError(t, Save(ctx, store, key, ix))
	got, err := Load(ctx, store, key)
	require.NoError(t, err)
	require.Equal(t, ix, got)

	k1, _ := ContentKey("flow", "m", "e", []string{"a"}, nil)
	k2, _ := ContentKey("flow", "m", "e", []string{"b"}, nil)
	require.NotEqual(t, k1, k2)
}
