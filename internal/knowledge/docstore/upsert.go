package docstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"

	loaders "github.com/flowgate/flowgate/internal/knowledge/loader"
	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
	"github.com/flowgate/flowgate/models"
)

// Loader node names this package can run.
const (
	LoaderPlainText = "plainText"
	LoaderTextFile  = "textFile"
)

// labels are the Flowise components' labels, which a store's loaders show as loaderName and
// splitterName.
var labels = map[string]string{
	LoaderPlainText:         "Plain Text",
	LoaderTextFile:          "Text File",
	textsplit.RecursiveName: "Recursive Character Text Splitter",
	textsplit.CharacterName: "Character Text Splitter",
	textsplit.MarkdownName:  "Markdown Text Splitter",
	textsplit.TokenName:     "Token Text Splitter",
}

// File is an uploaded document.
type File struct {
	Name string
	MIME string
	Data []byte
}

// UpsertRequest is the body of Flowise's POST /api/v1/document-store/upsert/{storeId}.
type UpsertRequest struct {
	// DocID names an existing loader of the store: its settings are the starting point, and
	// with ReplaceExisting its chunks are replaced instead of a new loader being added.
	DocID           string
	ReplaceExisting bool
	// Metadata is added to every chunk.
	Metadata   map[string]any
	LoaderName string
	Loader     *Component
	Splitter   *Component
	Embedding  *Component
	// VectorStore is recorded on the store; vectors go to the built-in store regardless.
	VectorStore   *Component
	RecordManager *Component
	Files         []File
	// NewDocID is the id a new loader gets; empty draws one. An upsert that is retried gives
	// the same id, so its second attempt replaces the first's chunks instead of adding a copy.
	NewDocID string
}

// UpsertResult is Flowise's answer to an upsert.
type UpsertResult struct {
	NumAdded   int    `json:"numAdded"`
	NumDeleted int    `json:"numDeleted"`
	NumUpdated int    `json:"numUpdated"`
	NumSkipped int    `json:"numSkipped"`
	DocID      string `json:"docId"`
}

// loader is one entry of a store's loaders JSON, kept as a map so fields a Flowise database
// holds survive a rewrite.
type loader map[string]any

// Upsert loads, splits and embeds documents into a store, as Flowise's one-call upsert API
// does, and leaves the store UPSERTED. The store's previous embedding and vector store configs
// are used where the request names none, and the request's are saved on the store, so later
// searches embed queries the same way.
func (s *Service) Upsert(ctx context.Context, storeID string, req UpsertRequest) (*UpsertResult, error) {
	store, err := s.Store.GetDocumentStore(ctx, storeID)
	if err != nil {
		return nil, err
	}
	loaders, err := parseLoaders(store)
	if err != nil {
		return nil, err
	}

	// Step 1: start from the named loader's settings, as Flowise does.
	loaderID, loaderName, splitterID := "", "", ""
	loaderConfig, splitterConfig := map[string]any{}, map[string]any{}
	existing := -1
	if req.DocID != "" {
		for i, l := range loaders {
			if l["id"] == req.DocID {
				existing = i
			}
		}
		if existing < 0 {
			return nil, fmt.Errorf("document loader %s: %w", req.DocID, models.ErrNotFound)
		}
		l := loaders[existing]
		loaderID, _ = l["loaderId"].(string)
		loaderName, _ = l["loaderName"].(string)
		splitterID, _ = l["splitterId"].(string)
		mergeInto(loaderConfig, asMap(l["loaderConfig"]))
		mergeInto(splitterConfig, asMap(l["splitterConfig"]))
	}
	// Step 2: the request's values win.
	if req.Loader != nil && req.Loader.Name != "" {
		loaderID = req.Loader.Name
		loaderName = cmp.Or(labels[loaderID], loaderID)
		mergeInto(loaderConfig, req.Loader.Config)
	}
	if loaderID == "" && len(req.Files) > 0 {
		loaderID, loaderName = LoaderTextFile, labels[LoaderTextFile]
	}
	loaderName = cmp.Or(req.LoaderName, loaderName)
	if req.Splitter != nil && req.Splitter.Name != "" {
		splitterID = req.Splitter.Name
		mergeInto(splitterConfig, req.Splitter.Config)
	}
	if len(req.Metadata) > 0 {
		loaderConfig["metadata"] = req.Metadata
	}
	embedding, err := mergeComponent(store.EmbeddingConfig, req.Embedding)
	if err != nil {
		return nil, err
	}
	// One store, one vector space: the other documents' vectors came from the stored model,
	// and vectors of two models do not compare.
	if before, _ := parseComponent(store.EmbeddingConfig); before != nil && embedding != nil &&
		len(loaders) > 0 && !(len(loaders) == 1 && existing == 0) && embeddingModel(before) != embeddingModel(embedding) {
		return nil, fmt.Errorf("%w: the store's documents were embedded with %s; upsert into another store to use %s",
			ErrInvalid, embeddingModel(before), embeddingModel(embedding))
	}
	vectorStore, err := mergeComponent(store.VectorStoreConfig, req.VectorStore)
	if err != nil {
		return nil, err
	}
	recordManager, err := mergeComponent(store.RecordManagerConfig, req.RecordManager)
	if err != nil {
		return nil, err
	}
	if loaderID == "" {
		return nil, fmt.Errorf("%w: Loader not configured", ErrInvalid)
	}
	if embedding == nil {
		return nil, fmt.Errorf("%w: Embedding not configured", ErrInvalid)
	}
	if vectorStore == nil {
		vectorStore = &Component{Name: BuiltinVectorStore, Config: map[string]any{}}
	}

	// Step 3: load and split.
	docs, files, err := load(loaderID, loaderConfig, req.Files)
	if err != nil {
		return nil, err
	}
	if splitterID != "" {
		sp, err := textsplit.FromNode(splitterID, splitterConfig)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		texts := make([]string, len(docs))
		metas := make([]map[string]any, len(docs))
		for i, d := range docs {
			texts[i], metas[i] = d.PageContent, d.Metadata
		}
		docs = sp.CreateDocuments(texts, metas)
	}
	docs, err = applyMetadata(docs, loaderConfig)
	if err != nil {
		return nil, err
	}

	// Step 4: embed before touching the database, so a failed provider call changes nothing.
	client, err := s.embedder(ctx, embedding)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = strings.ReplaceAll(d.PageContent, "\x00", "")
	}
	vecs, err := client.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed documents for document store %s: %w", storeID, err)
	}

	// Step 5: commit chunks, vectors and the store together.
	docID := cmp.Or(req.NewDocID, uuid.NewString())
	if existing >= 0 && req.ReplaceExisting {
		docID = req.DocID
	}
	now := time.Now().UTC()
	chunks := make([]models.DocumentStoreFileChunk, len(docs))
	vectors := make([]models.DocStoreVector, len(docs))
	totalChars := 0
	for i, d := range docs {
		id := uuid.NewString()
		chunkMeta, err := json.Marshal(d.Metadata)
		if err != nil {
			return nil, fmt.Errorf("%w: chunk metadata: %w", ErrInvalid, err)
		}
		// The vector store's copy also names its loader, as Flowise's does.
		withDoc := make(map[string]any, len(d.Metadata)+1)
		mergeInto(withDoc, d.Metadata)
		withDoc["docId"] = docID
		meta, err := json.Marshal(withDoc)
		if err != nil {
			return nil, fmt.Errorf("%w: chunk metadata: %w", ErrInvalid, err)
		}
		cm := string(chunkMeta)
		chunks[i] = models.DocumentStoreFileChunk{ID: id, DocID: docID, StoreID: storeID, ChunkNo: i + 1, PageContent: texts[i], Metadata: &cm}
		vectors[i] = models.DocStoreVector{ChunkID: id, StoreID: storeID, DocID: docID, ChunkNo: i + 1, PageContent: texts[i], Metadata: string(meta), Dimensions: len(vecs[i]), Embedding: encodeVector(vecs[i]), CreatedDate: now}
		totalChars += len(utf16.Encode([]rune(texts[i])))
	}

	// The loader list is changed on the row as it is at commit, under its lock: another upsert
	// may have added a loader since it was read above.
	update := func(store *models.DocumentStore) error {
		current, err := parseLoaders(store)
		if err != nil {
			return err
		}
		at := slices.IndexFunc(current, func(l loader) bool { return l["id"] == docID })
		entry := loader{}
		if at >= 0 {
			entry = current[at]
		}
		entry["id"] = docID
		entry["loaderId"] = loaderID
		entry["loaderName"] = loaderName
		entry["loaderConfig"] = loaderConfig
		entry["splitterId"] = splitterID
		entry["splitterName"] = labels[splitterID]
		entry["splitterConfig"] = splitterConfig
		entry["totalChunks"] = len(chunks)
		entry["totalChars"] = totalChars
		entry["status"] = models.DocStoreSync
		if len(files) > 0 {
			entry["files"] = files
		}
		if at >= 0 {
			current[at] = entry
		} else {
			current = append(current, entry)
		}
		if err := setJSON(&store.Loaders, current); err != nil {
			return err
		}
		if err := setJSON(&store.EmbeddingConfig, embedding); err != nil {
			return err
		}
		if err := setJSON(&store.VectorStoreConfig, vectorStore); err != nil {
			return err
		}
		if recordManager != nil {
			if err := setJSON(&store.RecordManagerConfig, recordManager); err != nil {
				return err
			}
		}
		store.Status = models.DocStoreUpserted
		return nil
	}
	deleted, err := s.Store.ReplaceLoaderChunks(ctx, storeID, docID, chunks, vectors, update)
	if err != nil {
		return nil, err
	}
	return &UpsertResult{NumAdded: len(vectors), NumDeleted: int(deleted), DocID: docID}, nil
}

// parseLoaders reads a store's loader entries.
func parseLoaders(store *models.DocumentStore) ([]loader, error) {
	var loaders []loader
	if store.Loaders != nil && *store.Loaders != "" {
		if err := json.Unmarshal([]byte(*store.Loaders), &loaders); err != nil {
			return nil, fmt.Errorf("loaders of document store %s: %w", store.ID, err)
		}
	}
	return loaders, nil
}

// load runs a loader: each returned document is one text before splitting, and files lists
// what uploads were read, in the shape of Flowise's loader files.
func load(loaderID string, cfg map[string]any, uploads []File) ([]textsplit.Document, []map[string]any, error) {
	switch loaderID {
	case LoaderPlainText:
		text, _ := cfg["text"].(string)
		if strings.TrimSpace(text) == "" {
			return nil, nil, fmt.Errorf("%w: plainText loader needs a non-empty text", ErrInvalid)
		}
		return []textsplit.Document{{PageContent: text, Metadata: map[string]any{}}}, nil, nil
	case LoaderTextFile:
		files := append([]File(nil), uploads...)
		// Files may also come inline, as Flowise's UI sends them: data URIs in txtFile.
		if raw, ok := cfg["txtFile"].(string); ok && raw != "" && !strings.HasPrefix(raw, loaders.StoragePrefix) {
			inline, err := dataURIs(raw)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, inline...)
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%w: textFile loader needs files (multipart field files, or data URIs in txtFile)", ErrInvalid)
		}
		var docs []textsplit.Document
		var list []map[string]any
		names := make([]string, 0, len(files))
		for _, f := range files {
			mime := cmp.Or(f.MIME, "text/plain")
			// LangChain's TextLoader over a blob: source "blob" and the blob's type.
			docs = append(docs, textsplit.Document{PageContent: string(f.Data), Metadata: map[string]any{"source": "blob", "blobType": mime}})
			list = append(list, map[string]any{
				"id": uuid.NewString(), "name": f.Name, "mimePrefix": mime, "size": len(f.Data),
				"status": models.DocStoreSync, "uploaded": time.Now().UTC(),
			})
			names = append(names, f.Name)
		}
		// Keep names, not contents, in the store row, as Flowise does after moving files to
		// storage.
		stored, _ := json.Marshal(names)
		cfg["txtFile"] = loaders.StoragePrefix + string(stored)
		return docs, list, nil
	}
	return nil, nil, fmt.Errorf("%w: document loader %q is not supported (supported: %s, %s)", ErrInvalid, loaderID, LoaderPlainText, LoaderTextFile)
}

// dataURIs reads Flowise's inline files (loader.DataURIs).
func dataURIs(raw string) ([]File, error) {
	files, err := loaders.DataURIs(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: txtFile: %w", ErrInvalid, err)
	}
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = File(f)
	}
	return out, nil
}

// applyMetadata is the loader nodes' metadata and omitMetadataKeys inputs.
func applyMetadata(docs []textsplit.Document, cfg map[string]any) ([]textsplit.Document, error) {
	omit, _ := cfg["omitMetadataKeys"].(string)
	docs, err := loaders.ApplyMetadata(docs, cfg["metadata"], omit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return docs, nil
}

// embeddingModel names an embedding component's provider and model.
func embeddingModel(c *Component) string {
	model, _ := c.Config["modelName"].(string)
	return c.Name + " " + model
}

// mergeComponent is Flowise's {...stored.config, ...new.config} with the new name winning.
func mergeComponent(stored *string, incoming *Component) (*Component, error) {
	base, err := parseComponent(stored)
	if err != nil {
		return nil, err
	}
	if incoming == nil || incoming.Name == "" {
		return base, nil
	}
	out := &Component{Name: incoming.Name, Config: map[string]any{}}
	if base != nil {
		mergeInto(out.Config, base.Config)
	}
	mergeInto(out.Config, incoming.Config)
	return out, nil
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = v
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func setJSON(dst **string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode document store field: %w", err)
	}
	s := string(b)
	*dst = &s
	return nil
}

// intConfig reads a Flowise number input, a string or a number.
func intConfig(cfg map[string]any, name string) (int, error) {
	switch v := cfg[name].(type) {
	case float64:
		return int(v), nil
	case string:
		return strconv.Atoi(strings.TrimSpace(v))
	}
	return 0, fmt.Errorf("%s is not set", name)
}
