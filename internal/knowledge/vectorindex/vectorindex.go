// Package vectorindex is the vector index of a chatflow's in-memory and Faiss vector store
// nodes. Flowise keeps a Faiss index in a local directory and an in-memory store in process
// memory; Flowgate keeps both as one object in storage (internal/storage), the store every
// worker of queue mode shares, so any worker searches what any other upserted. A search
// scans the index once, by cosine similarity, as the document stores' built-in store does.
package vectorindex

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"

	"github.com/flowgate/flowgate/internal/storage"
)

// Prefix is where indexes live in storage, apart from chat uploads and offloaded payloads.
const Prefix = "vectorstores/"

// MaxBytes bounds an index read back from storage.
const MaxBytes = 512 << 20

// ErrNoIndex is a search of an index nobody has upserted.
var ErrNoIndex = errors.New("vector store is empty: upsert it first (POST /api/v1/vector/upsert/{chatflowId})")

// Entry is one document and its vector.
type Entry struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
	Vector      []float32      `json:"vector"`
}

// Index is a vector store's documents. Embedding names the provider and model that made the
// vectors: a query embedded by another cannot be compared with them.
type Index struct {
	Embedding string  `json:"embedding"`
	Entries   []Entry `json:"entries"`
}

// Hit is a document a search found.
type Hit struct {
	PageContent string
	Metadata    map[string]any
	Score       float64
}

// Key is the storage key of a flow node's index: "vectorstores/<flowId>/<nodeId>[-<basePath
// hash>].json"; a Faiss node's basePath keeps apart indexes Flowise would keep apart.
func Key(flowID, nodeID, basePath string) (string, error) {
	name := nodeID
	if basePath != "" {
		sum := sha256.Sum256([]byte(basePath))
		name += "-" + hex.EncodeToString(sum[:6])
	}
	return storage.Key("vectorstores", flowID, name+".json")
}

// ContentKey is the key of an in-memory store's index built from exactly these documents
// with this embedding: the same documents embed once, whichever worker asks.
func ContentKey(flowID, nodeID, embedding string, texts []string, metadata []map[string]any) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(embedding)
	_ = enc.Encode(texts)
	_ = enc.Encode(metadata)
	return storage.Key("vectorstores", flowID, nodeID+"-"+hex.EncodeToString(h.Sum(nil)[:12])+".json")
}

// Save writes ix under key, replacing what was there.
func Save(ctx context.Context, store storage.Store, key string, ix *Index) error {
	b, err := json.Marshal(ix)
	if err != nil {
		return fmt.Errorf("encode vector index: %w", err)
	}
	return store.Put(ctx, key, bytes.NewReader(b), int64(len(b)), "application/json")
}

// Load reads the index under key; ErrNoIndex when there is none.
func Load(ctx context.Context, store storage.Store, key string) (*Index, error) {
	r, _, err := store.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoIndex
	}
	if err != nil {
		return nil, fmt.Errorf("read vector index: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read vector index: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("vector index %s is over %d bytes", key, MaxBytes)
	}
	var ix Index
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("vector index %s: %w", key, err)
	}
	return &ix, nil
}

// Search returns the k entries most similar to q whose metadata matches filter, best first;
// equal scores keep the index's order.
func (ix *Index) Search(q []float32, k int, filter map[string]any) ([]Hit, error) {
	var hits []Hit
	for i, e := range ix.Entries {
		if len(e.Vector) != len(q) {
			return nil, fmt.Errorf("the vector store holds %d-dimensional vectors but the query has %d; upsert it again", len(e.Vector), len(q))
		}
		if !Matches(e.Metadata, filter) {
			continue
		}
		h := Hit{PageContent: ix.Entries[i].PageContent, Metadata: e.Metadata, Score: Cosine(q, e.Vector)}
		at := sort.Search(len(hits), func(j int) bool { return hits[j].Score < h.Score })
		if at < k {
			hits = slices.Insert(hits, at, h)
			hits = hits[:min(len(hits), k)]
		}
	}
	return hits, nil
}

// Matches reports whether metadata has every value of filter (numbers compare as numbers).
func Matches(metadata, filter map[string]any) bool {
	for k, want := range filter {
		got, ok := metadata[k]
		if !ok || !equal(got, want) {
			return false
		}
	}
	return true
}

func equal(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// Cosine is the cosine similarity of two vectors of the same length: 1 for the same
// direction, 0 when either is all zeros. Flowgate's vector searches (these indexes and the
// document stores' own table) rank by it.
func Cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
