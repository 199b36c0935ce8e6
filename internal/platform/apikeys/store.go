package apikeys

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned by Rename and Delete for an unknown id.
var ErrNotFound = errors.New("api key not found")

// Key is a stored API key. It never holds the plaintext: Prefix finds it, Secret proves it.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"keyName"`
	Prefix    string    `json:"keyPrefix"`
	Secret    string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
}

// Store keeps API keys.
type Store interface {
	// List returns every key, oldest first.
	List(ctx context.Context) ([]Key, error)
	// Create makes a key named name and returns its record and its plaintext, which is not
	// kept anywhere and cannot be shown again.
	Create(ctx context.Context, name string) (k Key, plaintext string, err error)
	// Rename changes a key's name; ErrNotFound if there is no such key.
	Rename(ctx context.Context, id, name string) error
	// Delete revokes a key; ErrNotFound if there is no such key.
	Delete(ctx context.Context, id string) error
	// Verify finds the key plaintext belongs to: the records sharing its prefix, then scrypt.
	// ok is false for an unknown or wrong key; err is reserved for storage failures.
	Verify(ctx context.Context, plaintext string) (k Key, ok bool, err error)
	// Import adds or replaces (by ID) a key made elsewhere, such as one read from a Flowise
	// api.json. k.Prefix and a well-formed k.Secret are required; an empty ID gets a new one and
	// a zero CreatedAt becomes now.
	Import(ctx context.Context, k Key) error
}

// CacheTTL is how long a successful verification is remembered. Within it, a repeated Verify of
// the same key skips scrypt (50-100 ms) but still looks the key's record up, and the cached
// result counts only if a record with the same id and the same secret is still there. Deleting
// a key therefore revokes it at once, in this process and in every other process using the same
// database or file; the TTL only bounds how long a key's digest stays in memory.
const CacheTTL = time.Minute

// cacheMax bounds the cache; when it is full, expired entries go, and if none has expired the
// cache is emptied.
const cacheMax = 4096

// verifyCache remembers successful verifications, keyed by sha256 of the plaintext.
type verifyCache struct {
	mu     sync.Mutex
	ttl    time.Duration
	now    func() time.Time
	check  func(plaintext, secret string) bool // Verify; replaceable in tests
	byHash map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	id, secret string
	expires    time.Time
}

func newVerifyCache() *verifyCache {
	return &verifyCache{ttl: CacheTTL, now: time.Now, check: Verify, byHash: map[[sha256.Size]byte]cacheEntry{}}
}

// verify picks the candidate (records sharing the plaintext's prefix) that plaintext belongs
// to, from the cache when a fresh entry names a candidate with an unchanged secret, else by
// scrypt.
func (c *verifyCache) verify(plaintext string, candidates []Key) (Key, bool) {
	if plaintext == "" || len(candidates) == 0 {
		return Key{}, false
	}
	h := sha256.Sum256([]byte(plaintext))
	c.mu.Lock()
	e, hit := c.byHash[h]
	if hit && !c.now().Before(e.expires) {
		delete(c.byHash, h)
		hit = false
	}
	c.mu.Unlock()
	if hit {
		for _, k := range candidates {
			if k.ID == e.id && k.Secret == e.secret {
				return k, true
			}
		}
	}
	for _, k := range candidates {
		if c.check(plaintext, k.Secret) {
			c.put(h, k)
			return k, true
		}
	}
	return Key{}, false
}

func (c *verifyCache) put(h [sha256.Size]byte, k Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.byHash) >= cacheMax {
		for kh, e := range c.byHash {
			if !now.Before(e.expires) {
				delete(c.byHash, kh)
			}
		}
		if len(c.byHash) >= cacheMax {
			clear(c.byHash)
		}
	}
	c.byHash[h] = cacheEntry{id: k.ID, secret: k.Secret, expires: now.Add(c.ttl)}
}

// forget drops the entries of a key (on Delete, and on Import, which may replace its secret).
func (c *verifyCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.byHash {
		if e.id == id {
			delete(c.byHash, h)
		}
	}
}

// checkImport validates a key for Import and fills its defaults.
func checkImport(k *Key, now time.Time, newID func() string) error {
	if k.Prefix == "" {
		return errors.New("import api key: empty prefix")
	}
	k.Prefix = Prefix(k.Prefix)
	if !ValidSecret(k.Secret) {
		return errors.New("import api key " + k.ID + ": " + errMalformedSecret.Error())
	}
	if k.ID == "" {
		k.ID = newID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	return nil
}

// newKey generates a key and its record.
func newKey(name string, id string, now time.Time) (Key, string, error) {
	plaintext := Generate()
	secret, err := Hash(plaintext)
	if err != nil {
		return Key{}, "", err
	}
	return Key{ID: id, Name: name, Prefix: Prefix(plaintext), Secret: secret, CreatedAt: now}, plaintext, nil
}
