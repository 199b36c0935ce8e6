package apikeys

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned by Rename and Delete for an unknown id.
var ErrNotFound = errors.New("api key not found")

// Key is a stored API key. It never holds the plaintext: Fingerprint finds it (Prefix does for
// a key stored without one), Secret proves it.
type Key struct {
	ID     string `json:"id"`
	Name   string `json:"keyName"`
	Prefix string `json:"keyPrefix"`
	// Fingerprint is Fingerprint(key), or "" for a key stored before fingerprints until it
	// first verifies. It proves the key as the secret does, so it never leaves the store.
	Fingerprint string    `json:"-"`
	Secret      string    `json:"-"`
	CreatedAt   time.Time `json:"createdAt"`
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
	// Verify finds the key plaintext belongs to by its fingerprint, or, among the keys without
	// one, by prefix and scrypt (see the package doc). ok is false for an unknown or wrong key;
	// err is reserved for storage failures.
	Verify(ctx context.Context, plaintext string) (k Key, ok bool, err error)
	// Import adds or replaces (by ID) a key made elsewhere, such as one read from a Flowise
	// api.json. k.Prefix and a well-formed k.Secret are required, and k.Fingerprint, when set,
	// must be the key's (the caller proved it against the secret); an empty ID gets a new one
	// and a zero CreatedAt becomes now.
	Import(ctx context.Context, k Key) error
}

// keyIndex is how a store's keys are found for verification.
type keyIndex interface {
	// lookup returns the key whose fingerprint is fp (found is false when there is none) and
	// the keys that have no fingerprint and whose prefix is prefix.
	lookup(ctx context.Context, fp, prefix string) (match Key, found bool, legacy []Key, err error)
	// setFingerprint records fp for key id, if it still has secret and no fingerprint.
	setFingerprint(ctx context.Context, id, secret, fp string) error
}

// verifier proves keys for a store.
type verifier struct {
	// scrypt checks a key against a secret: Verify, counted in tests.
	scrypt func(plaintext, secret string) bool
}

func newVerifier() verifier { return verifier{scrypt: Verify} }

// verify finds the key plaintext belongs to in idx: by fingerprint, at the cost of one SHA-256
// whatever the guess, or among the keys without a fingerprint by scrypt, recording the
// fingerprint of the one it proves so that its next verification is a lookup too.
func (v verifier) verify(ctx context.Context, idx keyIndex, plaintext string) (Key, bool, error) {
	if !plausible(plaintext) {
		return Key{}, false, nil
	}
	fp := Fingerprint(plaintext)
	match, found, legacy, err := idx.lookup(ctx, fp, Prefix(plaintext))
	if err != nil || found {
		return match, found, err
	}
	for _, k := range legacy {
		if v.scrypt(plaintext, k.Secret) {
			// Best effort: the key is proven either way, and if the write fails its next
			// verification pays scrypt again and retries.
			_ = idx.setFingerprint(ctx, k.ID, k.Secret, fp)
			k.Fingerprint = fp
			return k, true, nil
		}
	}
	return Key{}, false, nil
}

// checkImport validates a key for Import and fills its defaults.
func checkImport(k *Key, now time.Time, newID func() string) error {
	if k.Prefix == "" {
		return fmt.Errorf("import api key %s: empty prefix", k.ID)
	}
	k.Prefix = Prefix(k.Prefix)
	if !ValidSecret(k.Secret) {
		return fmt.Errorf("import api key %s: %w", k.ID, errMalformedSecret)
	}
	if k.Fingerprint != "" && !validFingerprint(k.Fingerprint) {
		return fmt.Errorf("import api key %s: malformed fingerprint", k.ID)
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
	return Key{ID: id, Name: name, Prefix: Prefix(plaintext), Fingerprint: Fingerprint(plaintext), Secret: secret, CreatedAt: now}, plaintext, nil
}
