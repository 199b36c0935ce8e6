package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Document store statuses, Flowise's DocumentStoreStatus values.
const (
	DocStoreEmpty     = "EMPTY"
	DocStoreSync      = "SYNC"
	DocStoreSyncing   = "SYNCING"
	DocStoreStale     = "STALE"
	DocStoreNew       = "NEW"
	DocStoreUpserting = "UPSERTING"
	DocStoreUpserted  = "UPSERTED"
)

// DocumentStore is a named set of documents that flows search as knowledge. Loaders, WhereUsed
// and the three configs are JSON strings, as in Flowise: Loaders is an array of
// {id, loaderId, loaderName, loaderConfig, splitterId, splitterName, splitterConfig,
// totalChunks, totalChars, status}, and each config is {name, config}.
type DocumentStore struct {
	ID                  string    `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	Name                string    `gorm:"column:name;type:text;not null" json:"name"`
	Description         *string   `gorm:"column:description;type:text" json:"description"`
	Loaders             *string   `gorm:"column:loaders;type:text" json:"loaders"`
	WhereUsed           *string   `gorm:"column:whereUsed;type:text" json:"whereUsed"`
	Status              string    `gorm:"column:status;type:text;not null" json:"status"`
	VectorStoreConfig   *string   `gorm:"column:vectorStoreConfig;type:text" json:"vectorStoreConfig"`
	EmbeddingConfig     *string   `gorm:"column:embeddingConfig;type:text" json:"embeddingConfig"`
	RecordManagerConfig *string   `gorm:"column:recordManagerConfig;type:text" json:"recordManagerConfig"`
	CreatedDate         time.Time `gorm:"column:createdDate;not null" json:"createdDate"`
	UpdatedDate         time.Time `gorm:"column:updatedDate;not null" json:"updatedDate"`
}

// TableName is Flowise's.
func (DocumentStore) TableName() string { return "document_store" }

// DocumentStoreFileChunk is one chunk of a loader's documents. ChunkNo counts from 1 within the
// loader (DocID); Metadata is a JSON object string.
type DocumentStoreFileChunk struct {
	ID          string  `gorm:"column:id;primaryKey;type:varchar(36)" json:"id"`
	DocID       string  `gorm:"column:docId;type:varchar(36);not null;index" json:"docId"`
	StoreID     string  `gorm:"column:storeId;type:varchar(36);not null;index" json:"storeId"`
	ChunkNo     int     `gorm:"column:chunkNo;not null" json:"chunkNo"`
	PageContent string  `gorm:"column:pageContent;type:text;not null" json:"pageContent"`
	Metadata    *string `gorm:"column:metadata;type:text" json:"metadata"`
}

// TableName is Flowise's.
func (DocumentStoreFileChunk) TableName() string { return "document_store_file_chunk" }

// DocStoreVector is a chunk as Flowgate's built-in vector store holds it: the text and metadata
// that were embedded (so a search answers with what was upserted even if the chunk is edited
// later, as an external vector store would) and the embedding as little-endian float32s.
type DocStoreVector struct {
	ChunkID     string    `gorm:"column:chunkId;primaryKey;type:varchar(36)"`
	StoreID     string    `gorm:"column:storeId;type:varchar(36);not null;index"`
	DocID       string    `gorm:"column:docId;type:varchar(36);not null;index"`
	ChunkNo     int       `gorm:"column:chunkNo;not null"`
	PageContent string    `gorm:"column:pageContent;type:text;not null"`
	Metadata    string    `gorm:"column:metadata;type:text;not null"`
	Dimensions  int       `gorm:"column:dimensions;not null"`
	Embedding   []byte    `gorm:"column:embedding;not null"`
	CreatedDate time.Time `gorm:"column:createdDate;not null"`
}

// TableName is Flowgate's own: Flowise keeps vectors in an external store.
func (DocStoreVector) TableName() string { return "flowgate_docstore_vector" }

// CreateDocumentStore inserts a store; dates are set here.
func (s *Store) CreateDocumentStore(ctx context.Context, d *DocumentStore) error {
	db, done := s.with(ctx)
	defer done()
	now := time.Now().UTC()
	d.CreatedDate, d.UpdatedDate = now, now
	if err := db.Create(d).Error; err != nil {
		return fmt.Errorf("create document store: %w", err)
	}
	return nil
}

// ListDocumentStores returns stores, most recently updated first.
func (s *Store) ListDocumentStores(ctx context.Context) ([]DocumentStore, error) {
	db, done := s.with(ctx)
	defer done()
	var out []DocumentStore
	if err := db.Order(`"updatedDate" DESC`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list document stores: %w", err)
	}
	return out, nil
}

// GetDocumentStore loads one store.
func (s *Store) GetDocumentStore(ctx context.Context, id string) (*DocumentStore, error) {
	return getByID[DocumentStore](ctx, s, id, "document store")
}

// DescribeDocumentStore saves a store's name and description, and only those: its loaders
// and configs belong to upserts, which may be committing at the same moment.
func (s *Store) DescribeDocumentStore(ctx context.Context, id, name string, description *string) error {
	db, done := s.with(ctx)
	defer done()
	res := db.Model(&DocumentStore{}).Where("id = ?", id).
		Updates(map[string]any{"name": name, "description": description, "updatedDate": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("update document store %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("document store %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteDocumentStore removes a store with its chunks and vectors.
func (s *Store) DeleteDocumentStore(ctx context.Context, id string) error {
	db, done := s.with(ctx)
	defer done()
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Delete(&DocumentStoreFileChunk{}, `"storeId" = ?`, id).Error; err != nil {
			return fmt.Errorf("delete chunks of document store %s: %w", id, err)
		}
		if err := tx.Delete(&DocStoreVector{}, `"storeId" = ?`, id).Error; err != nil {
			return fmt.Errorf("delete vectors of document store %s: %w", id, err)
		}
		return deleteByID(tx, &DocumentStore{}, "document store", id)
	})
}

// ReplaceLoaderChunks commits one loader's upsert in a single transaction: the loader's
// previous chunks and vectors (docId) go, the new ones are written, and update changes the
// store row (its loaders, configs and status), read under a row lock so that concurrent
// upserts to one store each see the other's loaders. It returns how many vectors were
// deleted. A crash leaves either the old loader or the new one, never half of each.
func (s *Store) ReplaceLoaderChunks(ctx context.Context, storeID, docID string, chunks []DocumentStoreFileChunk, vectors []DocStoreVector,
	update func(*DocumentStore) error) (int64, error) {
	// Large documents take longer than one statement's budget.
	ctx, cancel := context.WithTimeout(ctx, opTimeout+time.Duration(len(chunks))*time.Millisecond*5)
	defer cancel()
	var deleted int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Writing first takes SQLite's write lock before the store row is read; PostgreSQL
		// locks the row itself below.
		if err := tx.Delete(&DocumentStoreFileChunk{}, `"docId" = ? AND "storeId" = ?`, docID, storeID).Error; err != nil {
			return fmt.Errorf("delete chunks of loader %s: %w", docID, err)
		}
		res := tx.Delete(&DocStoreVector{}, `"docId" = ? AND "storeId" = ?`, docID, storeID)
		if res.Error != nil {
			return fmt.Errorf("delete vectors of loader %s: %w", docID, res.Error)
		}
		deleted = res.RowsAffected
		if len(chunks) > 0 {
			if err := tx.CreateInBatches(chunks, 200).Error; err != nil {
				return fmt.Errorf("save chunks of loader %s: %w", docID, err)
			}
		}
		if len(vectors) > 0 {
			if err := tx.CreateInBatches(vectors, 200).Error; err != nil {
				return fmt.Errorf("save vectors of loader %s: %w", docID, err)
			}
		}
		var store DocumentStore
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", storeID).Take(&store).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("document store %s: %w", storeID, ErrNotFound)
			}
			return fmt.Errorf("lock document store %s: %w", storeID, err)
		}
		if err := update(&store); err != nil {
			return err
		}
		store.UpdatedDate = time.Now().UTC()
		return updateByID(tx, &store, "document store", storeID)
	})
	return deleted, err
}

// scanBudget bounds one pass over a store's vectors, which grows with the store.
const scanBudget = time.Minute

// EachDocStoreVector calls fn with every vector of a store, in chunk order per loader, one row
// at a time: only the chunk id and the embedding are read, so a search over a large store
// holds one vector in memory, not the store.
func (s *Store) EachDocStoreVector(ctx context.Context, storeID string, fn func(chunkID string, dims int, embedding []byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, scanBudget)
	defer cancel()
	rows, err := s.db.WithContext(ctx).Model(&DocStoreVector{}).Select(`"chunkId", "dimensions", "embedding"`).
		Where(`"storeId" = ?`, storeID).Order(`"docId", "chunkNo"`).Rows()
	if err != nil {
		return fmt.Errorf("read vectors of document store %s: %w", storeID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var dims int
		var embedding []byte
		if err := rows.Scan(&id, &dims, &embedding); err != nil {
			return fmt.Errorf("read vectors of document store %s: %w", storeID, err)
		}
		if err := fn(id, dims, embedding); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read vectors of document store %s: %w", storeID, err)
	}
	return nil
}

// DocStoreVectorsByID returns the named chunks of a store (text and metadata included), in no
// particular order.
func (s *Store) DocStoreVectorsByID(ctx context.Context, storeID string, chunkIDs []string) ([]DocStoreVector, error) {
	db, done := s.with(ctx)
	defer done()
	var out []DocStoreVector
	if err := db.Where(`"storeId" = ? AND "chunkId" IN ?`, storeID, chunkIDs).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("load chunks of document store %s: %w", storeID, err)
	}
	return out, nil
}

// DocumentStoreChunks returns a store's chunks, optionally of one loader, in chunk order.
func (s *Store) DocumentStoreChunks(ctx context.Context, storeID, docID string) ([]DocumentStoreFileChunk, error) {
	db, done := s.with(ctx)
	defer done()
	q := db.Where(`"storeId" = ?`, storeID)
	if docID != "" {
		q = q.Where(`"docId" = ?`, docID)
	}
	var out []DocumentStoreFileChunk
	if err := q.Order(`"docId", "chunkNo"`).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("load chunks of document store %s: %w", storeID, err)
	}
	return out, nil
}
