package e2e

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/flowgate/flowgate/workflows/node"
)

// TestDocumentStoreRoutes walks Flowise's document store API: create, one-call upserts (JSON
// and multipart), searches, Flowise's DTOs, errors and delete. Upserts and searches run on the
// worker tier as workflows; the answers are Flowise's.
func TestDocumentStoreRoutes(t *testing.T) {
	h := newHarness(t)
	credID := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-docstore-secret"})

	// Create: Flowise's entity, JSON columns as strings, status EMPTY.
	var created map[string]any
	h.doJSON("POST", "/api/v1/document-store/store", map[string]any{"name": "Handbook", "description": "Company handbook"}, 200, &created)
	id := created["id"].(string)
	require.Equal(t, "EMPTY", created["status"])
	require.Equal(t, "[]", created["loaders"])
	require.Equal(t, "[]", created["whereUsed"])
	status, body := h.do("POST", "/api/v1/document-store/store", map[string]any{"description": "x"})
	requireFlowiseError(t, status, body, 400, "name")

	// Upsert three texts through the one-call API.
	embedding := map[string]any{"name": "openAIEmbeddings", "config": map[string]any{"credential": credID, "basepath": h.mock.URL + "/v1"}}
	for _, text := range []string{
		"Holidays: every employee gets twenty five vacation days per year.",
		"Expenses: submit receipts for travel within thirty days.",
		"Security: lock your laptop screen whenever you leave your desk.",
	} {
		var res map[string]any
		h.doJSON("POST", "/api/v1/document-store/upsert/"+id, map[string]any{
			"loader":      map[string]any{"name": "plainText", "config": map[string]any{"text": text}},
			"splitter":    map[string]any{"name": "recursiveCharacterTextSplitter", "config": map[string]any{"chunkSize": 1000, "chunkOverlap": 200}},
			"embedding":   embedding,
			"vectorStore": map[string]any{"name": "memoryVectorStore", "config": map[string]any{}},
		}, 200, &res)
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
	req, err := http.NewRequest("POST", h.base+"/api/v1/document-store/upsert/"+id, &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, body = h.send(req)
	require.Equal(t, http.StatusOK, status, string(body))

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
	h.doJSON("POST", "/api/v1/document-store/vectorstore/query", map[string]any{"storeId": id, "query": "how many vacation days does an employee get"}, 200, &q)
	require.NotNil(t, q.TimeTaken)
	require.Len(t, q.Docs, 4)
	require.Contains(t, q.Docs[0].PageContent, "vacation days")
	require.NotEmpty(t, q.Docs[0].ID)
	require.Equal(t, 1, q.Docs[0].ChunkNo)
	h.doJSON("POST", "/api/v1/document-store/vectorstore/query", map[string]any{"storeId": id, "query": "when does the garage open"}, 200, &q)
	require.Contains(t, q.Docs[0].PageContent, "garage")
	require.Equal(t, "faq", q.Docs[0].Metadata["kind"])

	// Get and list: Flowise's DTO.
	var got map[string]any
	h.doJSON("GET", "/api/v1/document-store/store/"+id, nil, 200, &got)
	require.Equal(t, "UPSERTED", got["status"])
	require.Len(t, got["loaders"], 4)
	require.EqualValues(t, 4, got["totalChunks"])
	require.Equal(t, "openAIEmbeddings", got["embeddingConfig"].(map[string]any)["name"])
	require.Equal(t, "memoryVectorStore", got["vectorStoreConfig"].(map[string]any)["name"])
	require.Equal(t, `["faq.txt"]`, got["loaders"].([]any)[3].(map[string]any)["source"])
	require.NotContains(t, got["embeddingConfig"], "sk-docstore-secret")
	var list []map[string]any
	h.doJSON("GET", "/api/v1/document-store/store", nil, 200, &list)
	require.Len(t, list, 1)
	var page struct {
		Total int              `json:"total"`
		Data  []map[string]any `json:"data"`
	}
	h.doJSON("GET", "/api/v1/document-store/store?page=1&limit=10", nil, 200, &page)
	require.Equal(t, 1, page.Total)

	// The upserts and searches ran on the worker tier, each its own run in the Temporal UI,
	// and no history holds the credential's key.
	upserts := h.workflowsOfType(node.UpsertWorkflow, 4)
	for _, wid := range upserts {
		require.True(t, strings.HasPrefix(wid, "upsert:"+id+":"), wid)
		require.Equal(t, []string{node.UpsertActivity}, h.activityTypes(wid))
		require.NotContains(t, h.historyJSON(wid), "sk-docstore-secret")
	}
	h.workflowsOfType(node.QueryWorkflow, 2)

	// Errors, in Flowise's shape.
	status, body = h.do("POST", "/api/v1/document-store/upsert/"+id, map[string]any{"loader": map[string]any{"name": "pdfFile", "config": map[string]any{}}})
	requireFlowiseError(t, status, body, 400, "not supported")
	status, body = h.do("POST", "/api/v1/document-store/upsert/"+id, map[string]any{"metadata": "{broken"})
	requireFlowiseError(t, status, body, 400, "Invalid metadata")
	status, body = h.do("POST", "/api/v1/document-store/upsert/nope", map[string]any{"loader": map[string]any{"name": "plainText", "config": map[string]any{"text": "x"}}})
	requireFlowiseError(t, status, body, 404, "not found")
	status, body = h.do("POST", "/api/v1/document-store/vectorstore/query", map[string]any{"storeId": "nope", "query": "x"})
	requireFlowiseError(t, status, body, 404, "not found")
	h.mock.FailNext(1, http.StatusUnauthorized)
	status, body = h.do("POST", "/api/v1/document-store/vectorstore/query", map[string]any{"storeId": id, "query": "x"})
	requireFlowiseError(t, status, body, 502, "status 401")

	// Without a key: 401, as every management route.
	r, err := http.Post(h.base+"/api/v1/document-store/store", "application/json", bytes.NewReader([]byte(`{"name":"x"}`)))
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)

	// Delete.
	var del map[string]any
	h.doJSON("DELETE", "/api/v1/document-store/store/"+id, nil, 200, &del)
	require.EqualValues(t, 1, del["deleted"])
	status, body = h.do("GET", "/api/v1/document-store/store/"+id, nil)
	requireFlowiseError(t, status, body, 404, "not found")
	status, body = h.do("DELETE", "/api/v1/document-store/store/"+id, nil)
	requireFlowiseError(t, status, body, 404, "not found")
}

// TestDocumentStoreUpsertIsRetried: an embedding provider that fails once costs a retry of the
// upsert's activity, not the request, and the retry leaves the documents stored once.
func TestDocumentStoreUpsertIsRetried(t *testing.T) {
	h := newHarness(t)
	credID := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-retry"})
	var store struct{ ID string }
	h.doJSON("POST", "/api/v1/document-store/store", map[string]any{"name": "Retried"}, 200, &store)
	h.mock.FailNext(1, http.StatusServiceUnavailable)
	var res map[string]any
	h.doJSON("POST", "/api/v1/document-store/upsert/"+store.ID, map[string]any{
		"loader":    map[string]any{"name": "plainText", "config": map[string]any{"text": "Retries belong to Temporal."}},
		"embedding": map[string]any{"name": "openAIEmbeddings", "config": map[string]any{"credential": credID, "basepath": h.mock.URL + "/v1"}},
	}, 200, &res)
	require.EqualValues(t, 1, res["numAdded"])

	upserts := h.workflowsOfType(node.UpsertWorkflow, 1)
	acts := ranActivities(t, h.app.Temporal(), upserts[0])
	require.Len(t, acts, 1)
	require.EqualValues(t, 2, acts[0].attempt, "the failed embedding call cost one retry")

	var got map[string]any
	h.doJSON("GET", "/api/v1/document-store/store/"+store.ID, nil, 200, &got)
	require.Len(t, got["loaders"], 1)
	require.EqualValues(t, 1, got["totalChunks"])
}

// workflowsOfType waits for want closed runs of a workflow type on this harness's task queue to
// be visible (visibility lags behind a run's end) and returns their ids.
func (h *harness) workflowsOfType(workflowType string, want int) []string {
	h.t.Helper()
	var ids []string
	require.EventuallyWithT(h.t, func(c *assert.CollectT) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := h.app.Temporal().ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = '" + workflowType + "' AND TaskQueue = '" + h.cfg.QueueName + "'",
		})
		require.NoError(c, err)
		ids = ids[:0]
		for _, e := range resp.GetExecutions() {
			if e.GetStatus().String() != "Running" {
				ids = append(ids, e.GetExecution().GetWorkflowId())
			}
		}
		require.Len(c, ids, want)
	}, 10*time.Second, 100*time.Millisecond, "%d runs of %s appear in visibility", want, workflowType)
	return ids
}
