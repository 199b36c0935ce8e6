// Package docstore is Flowise's document stores: documents loaded, split into chunks, embedded
// and kept for flows to search as knowledge. Vectors live in Flowgate's built-in vector store
// (the flowgate_docstore_vector table, searched by cosine similarity in Go), whatever vector
// store a store's vectorStoreConfig names; the name and config are kept so an external store
// (pgvector and others) can take over later without changing the API.
package docstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"

	"github.com/flowgate/flowgate/internal/knowledge/vectorindex"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/providers/embedding"
	"github.com/flowgate/flowgate/models"
)

// DefaultTopK is how many chunks a search returns unless told otherwise (Flowise's vector
// stores' topK default).
const DefaultTopK = 4

// BuiltinVectorStore names Flowgate's own vector store in a store's vectorStoreConfig when the
// upsert named none.
const BuiltinVectorStore = "flowgateVectorStore"

// ErrInvalid marks requests that cannot succeed as sent: missing or unsupported components, bad
// settings, unknown credentials. The API answers them with 400.
var ErrInvalid = errors.New("invalid document store request")

// Secrets returns the decrypted fields of a credential.
type Secrets func(ctx context.Context, credentialID string) (map[string]string, error)

// CipherSecrets reads credentials from the store and decrypts them with cipher.
func CipherSecrets(store *models.Store, cipher *secrets.Cipher) Secrets {
	return func(ctx context.Context, id string) (map[string]string, error) {
		row, err := store.GetCredential(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("%w: credential %s not found", ErrInvalid, id)
		}
		if err != nil {
			return nil, err
		}
		if cipher == nil {
			return nil, fmt.Errorf("credential %s: no encryption key configured", id)
		}
		plain, err := cipher.Decrypt(row.EncryptedData)
		if err != nil {
			return nil, fmt.Errorf("credential %s (%s): %w", id, row.Name, err)
		}
		out := make(map[string]string, len(plain))
		for k, v := range plain {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out, nil
	}
}

// Service upserts into and searches document stores. Its fields are its dependencies.
type Service struct {
	Store   *models.Store
	Secrets Secrets
	// HTTP carries embedding requests; nil uses a shared client.
	HTTP *http.Client
}

// New returns a Service.
func New(store *models.Store, sec Secrets, hc *http.Client) *Service {
	return &Service{Store: store, Secrets: sec, HTTP: hc}
}

// Document is a chunk a search found.
type Document struct {
	ID          string         `json:"id"`
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
	ChunkNo     int            `json:"chunkNo"`
	// Score is the cosine similarity to the query.
	Score float64 `json:"-"`
}

// Component is a Flowise node by name with its inputs: a loader, splitter, embedding or vector
// store in an upsert, and the {name, config} JSON of a store's configs.
type Component struct {
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
}

func parseComponent(raw *string) (*Component, error) {
	if raw == nil || *raw == "" {
		return nil, nil
	}
	var c Component
	if err := json.Unmarshal([]byte(*raw), &c); err != nil {
		return nil, fmt.Errorf("stored config is not {name, config} JSON: %w", err)
	}
	if c.Name == "" {
		return nil, nil
	}
	if c.Config == nil {
		c.Config = map[string]any{}
	}
	return &c, nil
}

// embedder builds the embeddings client a store's embedding config describes.
func (s *Service) embedder(ctx context.Context, c *Component) (*embedding.Client, error) {
	var cred map[string]string
	if id := embedding.Credential(c.Config); id != "" {
		if s.Secrets == nil {
			return nil, fmt.Errorf("%w: credential %s cannot be read: no credential source", ErrInvalid, id)
		}
		var err error
		if cred, err = s.Secrets(ctx, id); err != nil {
			return nil, err
		}
	}
	cfg, err := embedding.FromFlowise(c.Name, c.Config, cred)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	client, err := embedding.New(cfg, s.HTTP)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return client, nil
}

// Search embeds query the way the store's documents were embedded and returns the k chunks
// most similar to it, best first; k <= 0 uses the vector store config's topK, else 4.
func (s *Service) Search(ctx context.Context, storeID, query string, k int) ([]Document, error) {
	store, err := s.Store.GetDocumentStore(ctx, storeID)
	if err != nil {
		return nil, err
	}
	emb, err := parseComponent(store.EmbeddingConfig)
	if err != nil {
		return nil, err
	}
	if emb == nil {
		return nil, fmt.Errorf("%w: Embedding for %s is not configured", ErrInvalid, storeID)
	}
	if k <= 0 {
		k = DefaultTopK
		if vs, _ := parseComponent(store.VectorStoreConfig); vs != nil {
			if n, err := intConfig(vs.Config, "topK"); err == nil && n > 0 {
				k = n
			}
		}
	}
	client, err := s.embedder(ctx, emb)
	if err != nil {
		return nil, err
	}
	q, err := client.EmbedQuery(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("embed query for document store %s: %w", storeID, err)
	}
	best, err := s.nearest(ctx, storeID, q, k)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(best))
	for i, b := range best {
		ids[i] = b.id
	}
	rows, err := s.Store.DocStoreVectorsByID(ctx, storeID, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]models.DocStoreVector, len(rows))
	for _, r := range rows {
		byID[r.ChunkID] = r
	}
	docs := make([]Document, 0, len(best))
	for _, b := range best {
		r, ok := byID[b.id]
		if !ok {
			continue // deleted by an upsert since the scan
		}
		md := map[string]any{}
		if r.Metadata != "" {
			if err := json.Unmarshal([]byte(r.Metadata), &md); err != nil {
				return nil, fmt.Errorf("metadata of chunk %s: %w", r.ChunkID, err)
			}
		}
		docs = append(docs, Document{ID: r.ChunkID, PageContent: r.PageContent, Metadata: md, ChunkNo: r.ChunkNo, Score: b.score})
	}
	return docs, nil
}

type scored struct {
	id    string
	score float64
}

// nearest scans the store's vectors once and keeps the k most similar to q, best first. Equal
// scores keep loader and chunk order, so results are deterministic.
func (s *Service) nearest(ctx context.Context, storeID string, q []float32, k int) ([]scored, error) {
	best := make([]scored, 0, k+1)
	err := s.Store.EachDocStoreVector(ctx, storeID, func(chunkID string, dims int, embedding []byte) error {
		if dims != len(q) {
			return fmt.Errorf("%w: document store %s holds %d-dimensional vectors but its embedding gives %d; upsert it again", ErrInvalid, storeID, dims, len(q))
		}
		v, err := decodeVector(embedding, dims)
		if err != nil {
			return fmt.Errorf("vector of chunk %s: %w", chunkID, err)
		}
		c := scored{chunkID, vectorindex.Cosine(q, v)}
		// Insert after every better-or-equal score: k is small, so a sorted slice beats a heap.
		at := sort.Search(len(best), func(i int) bool { return best[i].score < c.score })
		if at < k {
			best = slices.Insert(best, at, c)
			best = best[:min(len(best), k)]
		}
		return nil
	})
	return best, err
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte, dims int) ([]float32, error) {
	if len(b) != 4*dims {
		return nil, fmt.Errorf("%d bytes for %d dimensions", len(b), dims)
	}
	v := make([]float32, dims)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
