package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/knowledge/docstore"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/models"
)

// documentStores serves the document stores: their records, upserts and searches.
type documentStores struct {
	store *models.Store
	// docs loads, splits, embeds and searches documents, with the stored credentials.
	docs *docstore.Service
	log  *slog.Logger
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

// loaderSource is Flowise's addLoaderSource for the loaders Flowgate runs.
func loaderSource(l map[string]any) string {
	if l["loaderId"] == docstore.LoaderTextFile {
		cfg, _ := l["loaderConfig"].(map[string]any)
		if v, ok := cfg["txtFile"].(string); ok {
			return strings.TrimPrefix(v, "FILE-STORAGE::")
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

// upsert is Flowise's one-call upsert: JSON, or multipart with the same fields as
// strings and the documents in "files".
func (h *documentStores) upsert(c *gin.Context) {
	fields := map[string]any{}
	var files []docstore.File
	if isMultipart(c) {
		form, ok := multipartForm(c)
		if !ok {
			return
		}
		defer form.RemoveAll()
		for k, v := range form.Value {
			if len(v) > 0 {
				fields[k] = v[0]
			}
		}
		for _, fh := range form.File["files"] {
			f, err := fh.Open()
			if err != nil {
				fail(c, http.StatusBadRequest, "read upload %s: %v", fh.Filename, err)
				return
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				fail(c, http.StatusBadRequest, "read upload %s: %v", fh.Filename, err)
				return
			}
			files = append(files, docstore.File{Name: fh.Filename, MIME: fh.Header.Get("Content-Type"), Data: data})
		}
	} else if !bindJSON(c, &fields) {
		return
	}
	req, err := upsertRequest(fields)
	if err != nil {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	req.Files = files
	res, err := h.docs.Upsert(c, c.Param("id"), req)
	if err != nil {
		h.failDocStore(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// upsertRequest reads Flowise's upsert fields, each component an object or its JSON text.
func upsertRequest(f map[string]any) (docstore.UpsertRequest, error) {
	var req docstore.UpsertRequest
	component := func(name string) (*docstore.Component, error) {
		var c docstore.Component
		switch v := f[name].(type) {
		case nil:
			return nil, nil
		case string:
			if strings.TrimSpace(v) == "" {
				return nil, nil
			}
			if err := json.Unmarshal([]byte(v), &c); err != nil {
				return nil, fmt.Errorf("%s must be {name, config} JSON: %v", name, err)
			}
		default:
			b, _ := json.Marshal(v)
			if err := json.Unmarshal(b, &c); err != nil {
				return nil, fmt.Errorf("%s must be {name, config}: %v", name, err)
			}
		}
		if c.Config == nil {
			c.Config = map[string]any{}
		}
		return &c, nil
	}
	var err error
	for name, dst := range map[string]**docstore.Component{
		"loader": &req.Loader, "splitter": &req.Splitter, "embedding": &req.Embedding,
		"vectorStore": &req.VectorStore, "recordManager": &req.RecordManager,
	} {
		if *dst, err = component(name); err != nil {
			return req, err
		}
	}
	req.DocID, _ = f["docId"].(string)
	req.LoaderName, _ = f["loaderName"].(string)
	switch v := f["replaceExisting"].(type) {
	case bool:
		req.ReplaceExisting = v
	case string:
		req.ReplaceExisting = strings.EqualFold(v, "true")
	}
	switch v := f["metadata"].(type) {
	case map[string]any:
		req.Metadata = v
	case string:
		if strings.TrimSpace(v) != "" {
			if err := json.Unmarshal([]byte(v), &req.Metadata); err != nil {
				return req, fmt.Errorf("Error: Invalid metadata")
			}
		}
	}
	if b, ok := f["createNewDocStore"]; ok && (b == true || b == "true") {
		return req, errors.New("createNewDocStore is not supported; create the store first with POST /api/v1/document-store/store")
	}
	return req, nil
}

type vectorQueryBody struct {
	StoreID string `json:"storeId"`
	Query   string `json:"query"`
}

type vectorQueryDoc struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
	ID          string         `json:"id"`
	ChunkNo     int            `json:"chunkNo"`
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
	docs, err := h.docs.Search(c, b.StoreID, b.Query, 0)
	if err != nil {
		h.failDocStore(c, err)
		return
	}
	out := make([]vectorQueryDoc, len(docs))
	for i, d := range docs {
		out[i] = vectorQueryDoc{PageContent: d.PageContent, Metadata: d.Metadata, ID: d.ID, ChunkNo: d.ChunkNo}
	}
	c.JSON(http.StatusOK, gin.H{"timeTaken": time.Since(start).Milliseconds(), "docs": out})
}

// failDocStore maps document store errors: bad requests 400, a missing store or loader 404, a
// failed embeddings call 502 with the provider's (redacted) message, the rest as failErr.
func (h *documentStores) failDocStore(c *gin.Context, err error) {
	var pe *embedding.Error
	switch {
	case errors.Is(err, docstore.ErrInvalid):
		fail(c, http.StatusBadRequest, "%v", err)
	case errors.Is(err, models.ErrNotFound):
		fail(c, http.StatusNotFound, "%v", err)
	case errors.As(err, &pe):
		fail(c, http.StatusBadGateway, "%v", err)
	default:
		failErr(c, h.log, "Document store", err)
	}
}
