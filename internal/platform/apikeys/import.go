package apikeys

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ImportFlowiseFile reads a Flowise api.json and imports each key into the store, keeping its
// id, name, creation date and scrypt secret, and of its plaintext apiKey only the prefix and, when
// the secret proves it, the fingerprint: the plaintext itself is not stored. It checks every
// entry before importing any, and imports by id, so running it twice changes nothing. It
// returns how many keys it imported.
func ImportFlowiseFile(ctx context.Context, path string, into Store) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("import api keys: %w", err)
	}
	entries, err := readFlowiseFile(path)
	if err != nil {
		return 0, err
	}
	keys := make([]Key, len(entries))
	for i, e := range entries {
		if e.APIKey == "" {
			return 0, fmt.Errorf("%s: entry %d (%q) has no apiKey", path, i, e.KeyName)
		}
		if !ValidSecret(e.APISecret) {
			return 0, fmt.Errorf("%s: entry %d (%q): %w", path, i, e.KeyName, errMalformedSecret)
		}
		keys[i] = e.key()
		// Flowise's file holds the plaintext, which gives the fingerprint, so the key never
		// needs scrypt again; but only the secret vouches for it. (A file this package wrote
		// holds a prefix, and its own keyFingerprint.)
		if len(e.APIKey) > PrefixLen && Verify(e.APIKey, e.APISecret) {
			keys[i].Fingerprint = Fingerprint(e.APIKey)
		}
	}
	for i, k := range keys {
		if err := into.Import(ctx, k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}

// batchImporter is a store that can import several keys in one write.
type batchImporter interface {
	importAll(ctx context.Context, keys []Key) error
}

// ImportKeys imports keys as Import does, all or none where the store allows it: the JSON
// store in one write of its file, the database store in one transaction. A store of another
// kind gets them one by one.
func ImportKeys(ctx context.Context, into Store, keys []Key) error {
	if b, ok := into.(batchImporter); ok {
		return b.importAll(ctx, keys)
	}
	for _, k := range keys {
		if err := into.Import(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (s *jsonStore) importAll(_ context.Context, keys []Key) error {
	now := s.now().UTC()
	checked := make([]Key, len(keys))
	for i, k := range keys {
		if err := checkImport(&k, now, uuid.NewString); err != nil {
			return err
		}
		checked[i] = k
	}
	return s.update(func(stored []Key) ([]Key, error) {
		for _, k := range checked {
			if i := slices.IndexFunc(stored, func(e Key) bool { return e.ID == k.ID }); i >= 0 {
				stored[i] = k
			} else {
				stored = append(stored, k)
			}
		}
		return stored, nil
	})
}

func (s *dbStore) importAll(ctx context.Context, keys []Key) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		in := &dbStore{db: tx, verifier: s.verifier, now: s.now}
		for _, k := range keys {
			if err := in.Import(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
}
