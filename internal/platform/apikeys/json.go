package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/platform/filelock"
	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// FileName is the file a JSON store keeps its keys in, inside APIKEY_PATH, as in Flowise.
const FileName = "api.json"

// lockName is the file beside FileName whose lock each rewrite of it holds.
const lockName = "." + FileName + ".lock"

// flowiseEntry is one element of Flowise's api.json. In files Flowise wrote, APIKey is the
// plaintext key; in files this package writes, it is only the key's prefix, and KeyFingerprint,
// a field of Flowgate's that Flowise ignores, finds the key.
type flowiseEntry struct {
	KeyName        string `json:"keyName"`
	APIKey         string `json:"apiKey"`
	APISecret      string `json:"apiSecret"`
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	CreatedAt      string `json:"createdAt"`
	ID             string `json:"id"`
}

// flowiseDate is the createdAt layout Flowise writes (moment's "DD-MMM-YY").
const flowiseDate = "02-Jan-06"

func parseCreatedAt(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, flowiseDate} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// key is the entry's record. A plaintext apiKey (Flowise's) is not taken as proof: only the
// secret is, so the key gets its fingerprint when it first verifies, or when imported.
func (e flowiseEntry) key() Key {
	return Key{ID: e.ID, Name: e.KeyName, Prefix: Prefix(e.APIKey), Fingerprint: e.KeyFingerprint, Secret: e.APISecret,
		CreatedAt: parseCreatedAt(e.CreatedAt)}
}

func entryOf(k Key) flowiseEntry {
	return flowiseEntry{KeyName: k.Name, APIKey: Prefix(k.Prefix), APISecret: k.Secret, KeyFingerprint: k.Fingerprint,
		CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339Nano), ID: k.ID}
}

// readFlowiseFile reads an api.json; a missing or empty file holds no keys.
func readFlowiseFile(path string) ([]flowiseEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil, nil
	}
	var entries []flowiseEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return entries, nil
}

// jsonStore keeps keys in dir/api.json (APIKEY_STORAGE_TYPE=json). Every operation reads the
// file, so several stores on one directory see each other's changes; writes replace the file
// atomically (temp file + rename). A mutex serialises this process's read-modify-write cycles;
// there is no lock between processes, so concurrent writers in different processes can lose an
// update (last rename wins), as with Flowise. Use the db store for several instances.
type jsonStore struct {
	mu       sync.Mutex
	path     string
	verifier verifier
	now      func() time.Time
}

// NewJSONStore returns a store on dir/api.json, Flowise's layout. Keys it creates keep only
// their prefix in the apiKey field; a Flowise file holding plaintext keys is read as is (the
// prefix of apiKey finds the key), and the plaintexts are cut to prefixes the first time the
// store writes the file, at the latest when one of them first verifies.
func NewJSONStore(dir string) Store {
	return &jsonStore{path: filepath.Join(dir, FileName), verifier: newVerifier(), now: time.Now}
}

func (s *jsonStore) load() ([]Key, error) {
	entries, err := readFlowiseFile(s.path)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(entries))
	for i, e := range entries {
		keys[i] = e.key()
	}
	return keys, nil
}

func (s *jsonStore) save(keys []Key) error {
	entries := make([]flowiseEntry, len(keys))
	for i, k := range keys {
		entries[i] = entryOf(k)
	}
	b, err := json.MarshalIndent(entries, "", "    ")
	if err != nil {
		return err
	}
	// update, the only caller, made the directory before it took the lock beside the file.
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "."+FileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("write api keys: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write api keys: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write api keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write api keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write api keys: %w", err)
	}
	return nil
}

// update runs a read-modify-write cycle under the mutex.
func (s *jsonStore) update(f func([]Key) ([]Key, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Another process (`flowgate import` beside `flowgate start`) may rewrite the file too:
	// each read-modify-write holds the file lock, so neither loses the other's keys.
	if err := fsperm.MkdirAll(filepath.Dir(s.path)); err != nil {
		return fmt.Errorf("create api key directory: %w", err)
	}
	unlock, err := filelock.Lock(filepath.Join(filepath.Dir(s.path), lockName))
	if err != nil {
		return err
	}
	defer unlock()
	keys, err := s.load()
	if err != nil {
		return err
	}
	keys, err = f(keys)
	if err != nil {
		return err
	}
	return s.save(keys)
}

func (s *jsonStore) List(ctx context.Context) ([]Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

func (s *jsonStore) Create(ctx context.Context, name string) (Key, string, error) {
	k, plaintext, err := newKey(name, uuid.NewString(), s.now().UTC())
	if err != nil {
		return Key{}, "", err
	}
	if err := s.update(func(keys []Key) ([]Key, error) { return append(keys, k), nil }); err != nil {
		return Key{}, "", err
	}
	return k, plaintext, nil
}

func (s *jsonStore) Rename(ctx context.Context, id, name string) error {
	return s.update(func(keys []Key) ([]Key, error) {
		i := slices.IndexFunc(keys, func(k Key) bool { return k.ID == id })
		if i < 0 {
			return nil, ErrNotFound
		}
		keys[i].Name = name
		return keys, nil
	})
}

func (s *jsonStore) Delete(ctx context.Context, id string) error {
	return s.update(func(keys []Key) ([]Key, error) {
		n := len(keys)
		keys = slices.DeleteFunc(keys, func(k Key) bool { return k.ID == id })
		if len(keys) == n {
			return nil, ErrNotFound
		}
		return keys, nil
	})
}

func (s *jsonStore) Verify(ctx context.Context, plaintext string) (Key, bool, error) {
	return s.verifier.verify(ctx, s, plaintext)
}

func (s *jsonStore) lookup(ctx context.Context, fp, prefix string) (Key, bool, []Key, error) {
	keys, err := s.List(ctx)
	if err != nil {
		return Key{}, false, nil, err
	}
	var legacy []Key
	for _, k := range keys {
		switch {
		case k.Fingerprint == fp:
			return k, true, nil, nil
		case k.Fingerprint == "" && k.Prefix == prefix:
			legacy = append(legacy, k)
		}
	}
	return Key{}, false, legacy, nil
}

func (s *jsonStore) setFingerprint(_ context.Context, id, secret, fp string) error {
	return s.update(func(keys []Key) ([]Key, error) {
		for i, k := range keys {
			if k.ID == id && k.Secret == secret && k.Fingerprint == "" {
				keys[i].Fingerprint = fp
			}
		}
		return keys, nil
	})
}

func (s *jsonStore) Import(ctx context.Context, k Key) error {
	return s.importAll(ctx, []Key{k})
}
