package docstore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

// testStores opens a fresh database of each supported type.
func testStores(t *testing.T) map[string]*models.Store {
	t.Helper()
	ctx := context.Background()
	out := map[string]*models.Store{}
	lite, err := models.Open(ctx, models.DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	out["sqlite"] = models.NewStore(lite)
	name := pgtest.NewDatabase(t)
	pg, err := models.Open(ctx, models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: name, User: pgtest.User})
	require.NoError(t, err)
	out["postgres"] = models.NewStore(pg)
	t.Cleanup(func() {
		for _, s := range out {
			if db, err := s.DB().DB(); err == nil {
				db.Close()
			}
		}
	})
	return out
}

// newCredential stores an encrypted openAIApi credential and returns its id.
func newCredential(t *testing.T, store *models.Store, cipher *secrets.Cipher, key string) string {
	t.Helper()
	sealed, err := cipher.Encrypt(map[string]any{"openAIApiKey": key})
	require.NoError(t, err)
	c := &models.Credential{ID: uuid.NewString(), Name: "openai", CredentialName: "openAIApi", EncryptedData: sealed}
	require.NoError(t, store.CreateCredential(context.Background(), c))
	return c.ID
}

var texts = map[string]string{
	"cats":    "Cats are small furry pets that purr and chase mice around the house.",
	"finance": "Quarterly revenue grew by twelve percent thanks to strong enterprise sales.",
	"rockets": "The rocket engine burns liquid oxygen and kerosene to reach orbit.",
}

func TestUpsertAndSearch(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cipher := secrets.NewCipher(secrets.NewKey("docstore test", "test"))
	for dbName, store := range testStores(t) {
		t.Run(dbName, func(t *testing.T) {
			mock.Reset()
			ctx := context.Background()
			credID := newCredential(t, store, cipher, "sk-docstore")
			svc := New(store, CipherSecrets(store, cipher), nil)

			ds := &models.DocumentStore{ID: uuid.NewString(), Name: "Pets and more", Status: models.DocStoreEmpty}
			require.NoError(t, store.CreateDocumentStore(ctx, ds))

			embedding := &Component{Name: "openAIEmbeddings", Config: map[string]any{"credential": credID, "basepath": mock.URL + "/v1", "modelName": "text-embedding-3-small"}}
			var docIDs []string
			for _, key := range []string{"cats", "finance", "rockets"} {
				res, err := svc.Upsert(ctx, ds.ID, UpsertRequest{
					Loader:    &Component{Name: LoaderPlainText, Config: map[string]any{"text": texts[key]}},
					Splitter:  &Component{Name: "recursiveCharacterTextSplitter", Config: map[string]any{"chunkSize": "1000", "chunkOverlap": "200"}},
					Embedding: embedding,
					Metadata:  map[string]any{"topic": key},
				})
				require.NoError(t, err)
				require.Equal(t, 1, res.NumAdded)
				docIDs = append(docIDs, res.DocID)
				// Later upserts reuse the stored embedding config.
				embedding = nil
			}
			require.Len(t, mock.Requests(), 3)
			require.Equal(t, "text-embedding-3-small", mock.Requests()[2].Model)
			require.Equal(t, "Bearer sk-docstore", mock.Requests()[2].Headers.Get("Authorization"))

			got, err := store.GetDocumentStore(ctx, ds.ID)
			require.NoError(t, err)
			require.Equal(t, models.DocStoreUpserted, got.Status)
			var emb Component
			require.NoError(t, json.Unmarshal([]byte(*got.EmbeddingConfig), &emb))
			require.Equal(t, "openAIEmbeddings", emb.Name)
			require.Equal(t, credID, emb.Config["credential"], "the credential id is stored, never the key")
			require.NotContains(t, *got.EmbeddingConfig, "sk-docstore")
			var loaders []map[string]any
			require.NoError(t, json.Unmarshal([]byte(*got.Loaders), &loaders))
			require.Len(t, loaders, 3)
			require.Equal(t, "plainText", loaders[0]["loaderId"])
			require.Equal(t, "Plain Text", loaders[0]["loaderName"])
			require.Equal(t, "Recursive Character Text Splitter", loaders[0]["splitterName"])
			require.Equal(t, "SYNC", loaders[0]["status"])
			require.EqualValues(t, 1, loaders[0]["totalChunks"])

			chunks, err := store.DocumentStoreChunks(ctx, ds.ID, docIDs[0])
			require.NoError(t, err)
			require.Len(t, chunks, 1)
			require.Equal(t, 1, chunks[0].ChunkNo)
			require.JSONEq(t, `{"topic":"cats","loc":{"lines":{"from":1,"to":1}}}`, *chunks[0].Metadata)

			for key, query := range map[string]string{
				"cats":    "which pets purr and chase mice",
				"finance": "how much did revenue grow this quarter",
				"rockets": "what does the rocket engine burn",
			} {
				docs, err := svc.Search(ctx, ds.ID, query, 0)
				require.NoError(t, err)
				require.Len(t, docs, 3, "fewer chunks than topK: all of them")
				require.Equal(t, texts[key], docs[0].PageContent, "query %q", query)
				require.Equal(t, key, docs[0].Metadata["topic"])
				require.NotEmpty(t, docs[0].Metadata["docId"])
				require.Greater(t, docs[0].Score, docs[1].Score)
			}
			docs, err := svc.Search(ctx, ds.ID, "rocket orbit", 1)
			require.NoError(t, err)
			require.Len(t, docs, 1)
			require.Equal(t, chunkIDOf(t, store, ds.ID, docIDs[2]), docs[0].ID)

			// Replacing a loader swaps its chunks and vectors, leaving the others.
			res, err := svc.Upsert(ctx, ds.ID, UpsertRequest{DocID: docIDs[2], ReplaceExisting: true,
				Loader: &Component{Name: LoaderPlainText, Config: map[string]any{"text": "Submarines dive deep under the ocean."}}})
			require.NoError(t, err)
			require.Equal(t, UpsertResult{NumAdded: 1, NumDeleted: 1, DocID: docIDs[2]}, *res)
			docs, err = svc.Search(ctx, ds.ID, "submarines under the ocean", 1)
			require.NoError(t, err)
			require.Equal(t, "Submarines dive deep under the ocean.", docs[0].PageContent)
			all, err := store.DocumentStoreChunks(ctx, ds.ID, "")
			require.NoError(t, err)
			require.Len(t, all, 3)

			// Deleting the store removes its chunks and vectors.
			require.NoError(t, store.DeleteDocumentStore(ctx, ds.ID))
			require.Zero(t, countVectors(t, store, ds.ID))
			_, err = svc.Search(ctx, ds.ID, "x", 1)
			require.ErrorIs(t, err, models.ErrNotFound)
		})
	}
}

func chunkIDOf(t *testing.T, store *models.Store, storeID, docID string) string {
	t.Helper()
	chunks, err := store.DocumentStoreChunks(context.Background(), storeID, docID)
	require.NoError(t, err)
	require.Len(t, chunks, 1)
	return chunks[0].ID
}

func TestUpsertFailuresChangeNothing(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	ctx := context.Background()
	db, err := models.Open(ctx, models.DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	store := models.NewStore(db)
	cipher := secrets.NewCipher(secrets.NewKey("docstore test", "test"))
	svc := New(store, CipherSecrets(store, cipher), nil)
	ds := &models.DocumentStore{ID: uuid.NewString(), Name: "s", Status: models.DocStoreEmpty}
	require.NoError(t, store.CreateDocumentStore(ctx, ds))
	plain := &Component{Name: LoaderPlainText, Config: map[string]any{"text": "hello"}}

	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: plain})
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "Embedding not configured")

	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: &Component{Name: "pdfFile"}, Embedding: &Component{Name: "openAIEmbeddings"}})
	require.ErrorIs(t, err, ErrInvalid)

	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: plain, Embedding: &Component{Name: "openAIEmbeddings", Config: map[string]any{"credential": "missing"}}})
	require.ErrorIs(t, err, ErrInvalid)

	credID := newCredential(t, store, cipher, "sk-x")
	mock.FailNext(1, 500)
	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: plain, Embedding: &Component{Name: "openAIEmbeddings", Config: map[string]any{"credential": credID, "basepath": mock.URL + "/v1"}}})
	require.Error(t, err)
	got, err := store.GetDocumentStore(ctx, ds.ID)
	require.NoError(t, err)
	require.Equal(t, models.DocStoreEmpty, got.Status)
	require.Nil(t, got.EmbeddingConfig)

	_, err = svc.Upsert(ctx, uuid.NewString(), UpsertRequest{Loader: plain})
	require.ErrorIs(t, err, models.ErrNotFound)

	// Once documents are embedded with one model, another model's vectors would not compare.
	embedding := func(model string) *Component {
		return &Component{Name: "openAIEmbeddings", Config: map[string]any{"credential": credID, "basepath": mock.URL + "/v1", "modelName": model}}
	}
	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: plain, Embedding: embedding("text-embedding-3-small")})
	require.NoError(t, err)
	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: plain, Embedding: embedding("text-embedding-3-large")})
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "embedded with openAIEmbeddings text-embedding-3-small")
	_, err = svc.Upsert(ctx, ds.ID, UpsertRequest{Loader: plain, Embedding: embedding("text-embedding-3-small")})
	require.NoError(t, err, "the same model adds to the store")
}

func TestTextFileLoaderSplits(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	ctx := context.Background()
	db, err := models.Open(ctx, models.DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	store := models.NewStore(db)
	svc := New(store, func(context.Context, string) (map[string]string, error) {
		return map[string]string{"openAIApiKey": "k"}, nil
	}, nil)
	ds := &models.DocumentStore{ID: uuid.NewString(), Name: "files", Status: models.DocStoreEmpty}
	require.NoError(t, store.CreateDocumentStore(ctx, ds))
	res, err := svc.Upsert(ctx, ds.ID, UpsertRequest{
		Splitter:    &Component{Name: "recursiveCharacterTextSplitter", Config: map[string]any{"chunkSize": "20", "chunkOverlap": "0"}},
		Embedding:   &Component{Name: "openAIEmbeddings", Config: map[string]any{"credential": "c", "basepath": mock.URL + "/v1"}},
		VectorStore: &Component{Name: "postgres", Config: map[string]any{"topK": "2"}},
		Files:       []File{{Name: "notes.txt", MIME: "text/plain", Data: []byte("alpha beta gamma\n\ndelta epsilon zeta\n\neta theta iota")}},
	})
	require.NoError(t, err)
	require.Equal(t, 3, res.NumAdded)
	docs, err := svc.Search(ctx, ds.ID, "epsilon", 0)
	require.NoError(t, err)
	require.Len(t, docs, 2, "topK from the vector store config")
	require.Equal(t, "delta epsilon zeta", docs[0].PageContent)
	require.Equal(t, "blob", docs[0].Metadata["source"])
	got, err := store.GetDocumentStore(ctx, ds.ID)
	require.NoError(t, err)
	require.Contains(t, *got.Loaders, `FILE-STORAGE::[\"notes.txt\"]`)
	require.NotContains(t, *got.Loaders, "alpha beta", "file contents stay out of the store row")
}

func TestKnowledgeHelpers(t *testing.T) {
	id, name := ParseStoreRef("1b2c:Company Docs: 2024")
	require.Equal(t, "1b2c", id)
	require.Equal(t, "Company Docs: 2024", name)
	require.Equal(t, "company_docs_2024", ToolName(name, id))
	require.Equal(t, "tool_1b2c", ToolName("文档", "1b2c"))
	require.Equal(t, "_", ToolName("회사 문서", "1b2c"), "as Flowise: the space survives as an underscore")

	docs := []Document{{PageContent: "a", Metadata: map[string]any{"k": "v"}}, {PageContent: "b"}}
	out, err := ToolOutput(docs, false)
	require.NoError(t, err)
	require.Equal(t, "a\n\nb", out)
	out, err = ToolOutput(docs, true)
	require.NoError(t, err)
	require.Equal(t, "a\n\nb"+SourceDocumentsPrefix+`[{"pageContent":"a","metadata":{"k":"v"}},{"pageContent":"b","metadata":{}}]`, out)
	out, err = RetrieverOutput(docs, "text")
	require.NoError(t, err)
	require.Equal(t, "a\nb", out)
	out, err = RetrieverOutput(docs, "textWithMetadata")
	require.NoError(t, err)
	require.JSONEq(t, `[{"pageContent":"a","metadata":{"k":"v"}},{"pageContent":"b","metadata":{}}]`, out)
}

// Upserts into one store at the same moment each keep their loader: the loader list is
// changed under the store row's lock, on the row as the other upserts left it.
func TestConcurrentUpsertsKeepEveryLoader(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	cipher := secrets.NewCipher(secrets.NewKey("docstore test", "test"))
	for dbName, store := range testStores(t) {
		t.Run(dbName, func(t *testing.T) {
			ctx := context.Background()
			credID := newCredential(t, store, cipher, "sk-docstore")
			svc := New(store, CipherSecrets(store, cipher), nil)
			ds := &models.DocumentStore{ID: uuid.NewString(), Name: "busy", Status: models.DocStoreEmpty}
			require.NoError(t, store.CreateDocumentStore(ctx, ds))
			embedding := &Component{Name: "openAIEmbeddings", Config: map[string]any{"credential": credID, "basepath": mock.URL + "/v1"}}

			const n = 6
			errs := make(chan error, n)
			for i := range n {
				go func() {
					_, err := svc.Upsert(ctx, ds.ID, UpsertRequest{Embedding: embedding,
						Loader: &Component{Name: LoaderPlainText, Config: map[string]any{"text": fmt.Sprintf("passage number %d", i)}}})
					errs <- err
				}()
			}
			for range n {
				require.NoError(t, <-errs)
			}
			got, err := store.GetDocumentStore(ctx, ds.ID)
			require.NoError(t, err)
			loaders, err := parseLoaders(got)
			require.NoError(t, err)
			require.Len(t, loaders, n, "no upsert lost another's loader")
			require.Equal(t, n, countVectors(t, store, ds.ID))
		})
	}
}

// countVectors counts a store's vectors the way searches read them.
func countVectors(t *testing.T, store *models.Store, storeID string) int {
	t.Helper()
	n := 0
	require.NoError(t, store.EachDocStoreVector(context.Background(), storeID, func(string, int, []byte) error {
		n++
		return nil
	}))
	return n
}
