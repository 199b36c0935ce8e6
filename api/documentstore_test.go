package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

func TestDocumentStoreRoutes(t *testing.T) {
	// With a cipher, so credentials can be created and used by upserts.
	a := newTestAPI(t, secrets.NewCipher(secrets.NewKey("api docstore test", "test")))
	mock := llmmock.NewTestServer(t, llmmock.Options{})

	var cred map[string]any
	a.call("POST", "/api/v1/credentials", `{"name":"oa","credentialName":"openAIApi","plainDataObj":{"openAIApiKey":"sk-api"}}`, http.StatusOK, &cred)
	credID := cred["id"].(string)

	// Create: Flowise's entity, JSON columns as strings, status EMPTY.
	var created map[string]any
	a.call("POST", "/api/v1/document-store/store", `{"name":"Handbook","description":"Company handbook"}`, http.StatusOK, &created)
	id := created["id"].(string)
	require.Equal(t, "EMPTY", created["status"])
	require.Equal(t, "[]", created["loaders"])
	require.Equal(t, "[]", created["whereUsed"])
	a.requireError("POST", "/api/v1/document-store/store", `{"description":"x"}`, http.StatusBadRequest, "name")

	// Upsert three texts through the one-call API.
	embedding := map[string]any{"name": "openAIEmbeddings", "config": map[string]any{"credential": credID, "basepath": mock.URL + "/v1"}}
	for _, text := range []string{
		"Holidays: every employee gets twenty five vacation days per year.",
		"Expenses: submit receipts for travel within thirty days.",
		"Security: lock your laptop screen whenever you leave your desk.",
	} {
		body, _ := json.Marshal(map[string]any{
			"loader":      map[string]any{"name": "plainText", "config": map[string]any{"text": text}},
			"splitter":    map[string]any{"name": "recursiveCharacterTextSplitter", "config": map[string]any{"chunkSize": 1000, "chunkOverlap": 200}},
			"embedding":   embedding,
			"vectorStore": map[string]any{"name": "memoryVectorStore", "config": map[string]any{}},
		})
		var res map[string]any
		a.call("POST", "/api/v1/document-store/upsert/"+id, string(body), http.StatusOK, &res)
		require.EqualValues(t, 1, res["numAdded"])
		require.NotEmpty(t, res["docId"])
	}

	// Multipart upload of a text file, with the components as JSON strings.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("loader", `{"name":"textFile","config":{}}`))
	require.NoError(t, mw.WriteField("metadata", `{"kind":"faq"}`))
	fw, err := mw.CreateFormFile("files", "faq.txt")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("Parking: the garage opens at seven in the morning."))
	require.NoError(t, mw.Close())
	req, err := http.NewRequest("POST", a.srv.URL+"/api/v1/document-store/upsert/"+id, &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.key)
	resp, err := a.srv.Client().Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))

	// Query: the chunk that shares words with the query comes first.
	var q struct {
		TimeTaken *int64 `json:"timeTaken"`
		Docs      []struct {
			ID          string         `json:"id"`
			PageContent string         `json:"pageContent"`
			Metadata    map[string]any `json:"metadata"`
			ChunkNo     int            `json:"chunkNo"`
		} `json:"docs"`
	}
	a.call("POST", "/api/v1/document-store/vectorstore/query", `{"storeId":"`+id+`","query":"how many vacation days does an employee get"}`, http.StatusOK, &q)
	require.NotNil(t, q.TimeTaken)
	require.Len(t, q.Docs, 4)
	require.Contains(t, q.Docs[0].PageContent, "vacation days")
	require.NotEmpty(t, q.Docs[0].ID)
	require.Equal(t, 1, q.Docs[0].ChunkNo)
	a.call("POST", "/api/v1/document-store/vectorstore/query", `{"storeId":"`+id+`","query":"when does the garage open"}`, http.StatusOK, &q)
	require.Contains(t, q.Docs[0].PageContent, "garage")
	require.Equal(t, "faq", q.Docs[0].Metadata["kind"])

	// Get and list: Flowise's DTO.
	var got map[string]any
	a.call("GET", "/api/v1/document-store/store/"+id, "", http.StatusOK, &got)
	require.Equal(t, "UPSERTED", got["status"])
	require.Len(t, got["loaders"], 4)
	require.EqualValues(t, 4, got["totalChunks"])
	require.Equal(t, "openAIEmbeddings", got["embeddingConfig"].(map[string]any)["name"])
	require.Equal(t, "memoryVectorStore", got["vectorStoreConfig"].(map[string]any)["name"])
	require.Equal(t, `["faq.txt"]`, got["loaders"].([]any)[3].(map[string]any)["source"])
	require.NotContains(t, got["embeddingConfig"], "sk-api")
	var list []map[string]any
	a.call("GET", "/api/v1/document-store/store", "", http.StatusOK, &list)
	require.Len(t, list, 1)
	var page struct {
		Total int              `json:"total"`
		Data  []map[string]any `json:"data"`
	}
	a.call("GET", "/api/v1/document-store/store?page=1&limit=10", "", http.StatusOK, &page)
	require.Equal(t, 1, page.Total)

	// Errors.
	a.requireError("POST", "/api/v1/document-store/upsert/"+id, `{"loader":{"name":"pdfFile","config":{}}}`, http.StatusBadRequest, "not supported")
	a.requireError("POST", "/api/v1/document-store/upsert/nope", `{"loader":{"name":"plainText","config":{"text":"x"}}}`, http.StatusNotFound, "not found")
	a.requireError("POST", "/api/v1/document-store/vectorstore/query", `{"storeId":"nope","query":"x"}`, http.StatusNotFound, "not found")
	mock.FailNext(1, http.StatusUnauthorized)
	a.requireError("POST", "/api/v1/document-store/vectorstore/query", `{"storeId":"`+id+`","query":"x"}`, http.StatusBadGateway, "status 401")

	// Without a key: 401, as every management route.
	r, err := http.Post(a.srv.URL+"/api/v1/document-store/store", "application/json", bytes.NewReader([]byte(`{"name":"x"}`)))
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)

	// Delete.
	var del map[string]any
	a.call("DELETE", "/api/v1/document-store/store/"+id, "", http.StatusOK, &del)
	require.EqualValues(t, 1, del["deleted"])
	a.requireError("GET", "/api/v1/document-store/store/"+id, "", http.StatusNotFound, "not found")
	a.requireError("DELETE", "/api/v1/document-store/store/"+id, "", http.StatusNotFound, "not found")
}
