package apikeys

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/flowgate/flowgate/models"
)

// dbStore keeps keys in the apikey table (APIKEY_STORAGE_TYPE=db). Several instances on one
// database share keys; Verify reads the key's row every time, so a deletion by any instance
// revokes the key everywhere at once.
type dbStore struct {
	db       *gorm.DB
	verifier verifier
	now      func() time.Time
}

// NewDBStore returns a store on the apikey table of db (models.APIKey; migrated by models.Open).
func NewDBStore(db *gorm.DB) Store {
	return &dbStore{db: db, verifier: newVerifier(), now: time.Now}
}

func keyOf(m models.APIKey) Key {
	k := Key{ID: m.ID, Name: m.KeyName, Prefix: m.Prefix, Secret: m.APISecret, CreatedAt: m.CreatedDate}
	if m.Fingerprint != nil {
		k.Fingerprint = *m.Fingerprint
	}
	return k
}

func rowOf(k Key, updated time.Time) models.APIKey {
	row := models.APIKey{ID: k.ID, KeyName: k.Name, Prefix: k.Prefix, APISecret: k.Secret, CreatedDate: k.CreatedAt.UTC(), UpdatedDate: updated.UTC()}
	if k.Fingerprint != "" {
		row.Fingerprint = &k.Fingerprint
	}
	return row
}

func keysOf(rows []models.APIKey) []Key {
	keys := make([]Key, len(rows))
	for i, r := range rows {
		keys[i] = keyOf(r)
	}
	return keys
}

func (s *dbStore) List(ctx context.Context) ([]Key, error) {
	var rows []models.APIKey
	if err := s.db.WithContext(ctx).Order(`"createdDate", id`).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keysOf(rows), nil
}

func (s *dbStore) Create(ctx context.Context, name string) (Key, string, error) {
	now := s.now().UTC()
	k, plaintext, err := newKey(name, uuid.NewString(), now)
	if err != nil {
		return Key{}, "", err
	}
	row := rowOf(k, now)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Key{}, "", fmt.Errorf("create api key: %w", err)
	}
	return k, plaintext, nil
}

func (s *dbStore) Rename(ctx context.Context, id, name string) error {
	res := s.db.WithContext(ctx).Model(&models.APIKey{}).Where("id = ?", id).
		Updates(map[string]any{"keyName": name, "updatedDate": s.now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("rename api key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *dbStore) Delete(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&models.APIKey{})
	if res.Error != nil {
		return fmt.Errorf("delete api key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *dbStore) Verify(ctx context.Context, plaintext string) (Key, bool, error) {
	return s.verifier.verify(ctx, s, plaintext)
}

func (s *dbStore) lookup(ctx context.Context, fp, prefix string) (Key, bool, []Key, error) {
	var rows []models.APIKey
	err := s.db.WithContext(ctx).
		Where(`"keyFingerprint" = ? OR ("keyFingerprint" IS NULL AND "keyPrefix" = ?)`, fp, prefix).
		Find(&rows).Error
	if err != nil {
		return Key{}, false, nil, fmt.Errorf("look up api key: %w", err)
	}
	var legacy []Key
	for _, r := range rows {
		k := keyOf(r)
		if k.Fingerprint == fp {
			return k, true, nil, nil
		}
		legacy = append(legacy, k)
	}
	return Key{}, false, legacy, nil
}

func (s *dbStore) setFingerprint(ctx context.Context, id, secret, fp string) error {
	err := s.db.WithContext(ctx).Model(&models.APIKey{}).
		Where(`id = ? AND "apiSecret" = ? AND "keyFingerprint" IS NULL`, id, secret).
		Update("keyFingerprint", fp).Error
	if err != nil {
		return fmt.Errorf("record api key %s fingerprint: %w", id, err)
	}
	return nil
}

func (s *dbStore) Import(ctx context.Context, k Key) error {
	now := s.now().UTC()
	if err := checkImport(&k, now, uuid.NewString); err != nil {
		return err
	}
	row := rowOf(k, now)
	// A replaced key takes the new fingerprint, or none: the old one proves the old key.
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"keyName", "keyPrefix", "keyFingerprint", "apiSecret", "createdDate", "updatedDate"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("import api key: %w", err)
	}
	return nil
}
