package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/knowledge/loader"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// documentStores serves the document stores: their records here, their upserts and searches
// as workflows on the worker tier (loading, splitting and embedding are node work).
type documentStores struct {
	store *models.Store
	runs  *workRuns
	log   *slog.Logger
}

func (h *documentStores) routes(_, v1 *gin.RouterGroup) {
	v1.POST("/document-store/store", h.create)
	v1.GET("/document-store/store", h.list)
	v1.GET("/document-store/store/:id", h.get)
	v1.PUT("/document-store/store/:id", h.update)
	v1.DELETE("/document-store/store/:id", h.delete)
	v1.POST("/document-store/upsert/:id", h.upsert)
	v1.POST("/document-store/vectorstore/query", h.query)
}

// documentStoreDTO is Flowise's DocumentStoreDTO: the entity with its JSON columns parsed and
// the loaders' totals summed.
type documentStoreDTO struct {
	ID                  string           `json:"id"`
	Name                string           `json:"name"`
	Description         *string          `json:"description"`
	Loaders             []map[string]any `json:"loaders"`
	WhereUsed           []any            `json:"whereUsed"`
	Status              string           `json:"status"`
	VectorStoreConfig   any              `json:"vectorStoreConfig"`
	EmbeddingConfig     any              `json:"embeddingConfig"`
	RecordManagerConfig any              `json:"recordManagerConfig"`
	TotalChars          int              `json:"totalChars"`
	TotalChunks         int              `json:"totalChunks"`
	CreatedDate         time.Time        `json:"createdDate"`
	UpdatedDate         time.Time        `json:"updatedDate"`
}

func toDocumentStoreDTO(d *models.DocumentStore) documentStoreDTO {
	out := documentStoreDTO{ID: d.ID, Name: d.Name, Description: d.Description, Status: d.Status,
		CreatedDate: d.CreatedDate, UpdatedDate: d.UpdatedDate, WhereUsed: []any{}, Loaders: []map[string]any{}}
	parse := func(raw *string, dst any) {
		if raw != nil && *raw != "" {
			_ = json.Unmarshal([]byte(*raw), dst)
		}
	}
	parse(d.WhereUsed, &out.WhereUsed)
	parse(d.VectorStoreConfig, &out.VectorStoreConfig)
	parse(d.EmbeddingConfig, &out.EmbeddingConfig)
	parse(d.RecordManagerConfig, &out.RecordManagerConfig)
	parse(d.Loaders, &out.Loaders)
	for _, l := range out.Loaders {
		chars, _ := l["totalChars"].(float64)
		chunks, _ := l["totalChunks"].(float64)
		out.TotalChars += int(chars)
		out.TotalChunks += int(chunks)
		if _, ok := l["source"]; !ok {
			l["source"] = loaderSource(l)
		}
		if l["status"] != models.DocStoreSync {
			out.Status = models.DocStoreStale
		}
	}
	return out
}

// loaderSource is Flowise's addLoaderSource for the loaders Flowgate runs: a text file
// loader (Flowise's textFile node) names its file.
func loaderSource(l map[string]any) string {
	if l["loaderId"] == "textFile" {
		cfg, _ := l["loaderConfig"].(map[string]any)
		if v, ok := cfg["txtFile"].(string); ok {
			return strings.TrimPrefix(v, loader.StoragePrefix)
		}
	}
	return "None"
}

type documentStoreBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (h *documentStores) create(c *gin.Context) {
	var b documentStoreBody
	if !bindJSON(c, &b) {
		return
	}
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		fail(c, http.StatusBadRequest, "name is required")
		return
	}
	empty := "[]"
	d := &models.DocumentStore{ID: uuid.NewString(), Name: *b.Name, Description: b.Description,
		Loaders: &empty, WhereUsed: &empty, Status: models.DocStoreEmpty}
	if err := h.store.CreateDocumentStore(c, d); err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	// Flowise answers a create with the saved entity, JSON columns still strings.
	c.JSON(http.StatusOK, d)
}

func (h *documentStores) list(c *gin.Context) {
	stores, err := h.store.ListDocumentStores(c)
	if err != nil {
		failErr(c, h.log, "Document stores", err)
		return
	}
	out := make([]documentStoreDTO, len(stores))
	for i := range stores {
		out[i] = toDocumentStoreDTO(&stores[i])
	}
	page, _ := strconv.Atoi(c.Query("page"))
	limit, _ := strconv.Atoi(c.Query("limit"))
	if page > 0 && limit > 0 {
		from := min((page-1)*limit, len(out))
		c.JSON(http.StatusOK, gin.H{"total": len(out), "data": out[from:min(from+limit, len(out))]})
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *documentStores) get(c *gin.Context) {
	d, err := h.store.GetDocumentStore(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	c.JSON(http.StatusOK, toDocumentStoreDTO(d))
}

func (h *documentStores) update(c *gin.Context) {
	d, err := h.store.GetDocumentStore(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	var b documentStoreBody
	if !bindJSON(c, &b) {
		return
	}
	if b.Name != nil {
		if strings.TrimSpace(*b.Name) == "" {
			fail(c, http.StatusBadRequest, "name must not be empty")
			return
		}
		d.Name = *b.Name
	}
	if b.Description != nil {
		d.Description = b.Description
	}
	if err := h.store.DescribeDocumentStore(c, d.ID, d.Name, d.Description); err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	if d, err = h.store.GetDocumentStore(c, d.ID); err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	c.JSON(http.StatusOK, toDocumentStoreDTO(d))
}

func (h *documentStores) delete(c *gin.Context) {
	if err := h.store.DeleteDocumentStore(c, c.Param("id")); err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deleted": 1})
}

// upsertTimeout bounds an upsert: embedding a large document takes minutes, and a worker that
// dies costs a retry of the whole upsert.
const upsertTimeout = time.Hour

// upsert is Flowise's one-call upsert: JSON, or multipart with the same fields as strings and
// the documents in "files". A worker does it (documentStoreUpsert); the answer waits for it.
func (h *documentStores) upsert(c *gin.Context) {
	in := node.UpsertInput{StoreID: c.Param("id"), Fields: map[string]any{}}
	if isMultipart(c) {
		form, ok := multipartForm(c)
		if !ok {
			return
		}
		defer form.RemoveAll()
		for k, v := range form.Value {
			if len(v) > 0 {
				in.Fields[k] = v[0]
			}
		}
		for _, fh := range form.File["files"] {
			data, err := readUpload(fh)
			if err != nil {
				fail(c, http.StatusBadRequest, "read upload %s: %v", fh.Filename, err)
				return
			}
			in.Files = append(in.Files, node.File{Name: fh.Filename, MIME: fh.Header.Get("Content-Type"), Data: data})
		}
	} else if !bindJSON(c, &in.Fields) {
		return
	}
	if _, err := h.store.GetDocumentStore(c, in.StoreID); err != nil {
		failErr(c, h.log, "Document store", err)
		return
	}
	var out node.UpsertResult
	ok := h.runs.do(c, "document store upsert", node.UpsertWorkflow, node.UpsertWorkflowID(in.StoreID, uuid.NewString()), upsertTimeout, in, &out)
	h.runs.metrics.Count(c, telemetry.VectorUpserted, ok)
	if ok {
		c.JSON(http.StatusOK, out)
	}
}

// readUpload reads one uploaded file; the body limit bounds it.
func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

type vectorQueryBody struct {
	StoreID string `json:"storeId"`
	Query   string `json:"query"`
}

func (h *documentStores) query(c *gin.Context) {
	var b vectorQueryBody
	if !bindJSON(c, &b) {
		return
	}
	if b.StoreID == "" || b.Query == "" {
		fail(c, http.StatusBadRequest, "storeId and query are required")
		return
	}
	start := time.Now()
	var out node.QueryResult
	if h.runs.do(c, "document store search", node.QueryWorkflow, node.QueryWorkflowID(b.StoreID, uuid.NewString()), h.runs.cfg.PredictionTimeout,
		node.QueryInput{StoreID: b.StoreID, Query: b.Query}, &out) {
		c.JSON(http.StatusOK, gin.H{"timeTaken": time.Since(start).Milliseconds(), "docs": out.Docs})
	}
}
