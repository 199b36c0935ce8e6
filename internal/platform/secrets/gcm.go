package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Flowgate writes credentials as "fg1:<key id>:<base64(nonce ‖ AES-256-GCM(text))>":
// authenticated, so a wrong key or a flipped bit is always detected, and tagged with the id of
// the key that sealed it, so a database can hold rows of several keys while a rotation runs.
// Flowise's "Salted__" rows are still read (see cipher.go).
const gcmPrefix = "fg1:"

// aad binds a sealed value to its use: a credential, not some other secret sealed with the
// same key.
var aad = []byte("flowgate credential v1")

// gcmKey derives the AES-256-GCM key and its public id from a passphrase. HKDF rather than the
// passphrase itself: passphrases are text of any length, and the id must reveal nothing.
func gcmKey(passphrase string) (cipher.AEAD, string, error) {
	key, err := hkdf.Key(sha256.New, []byte(passphrase), []byte("flowgate"), "credential key v1", 32)
	if err != nil {
		return nil, "", err
	}
	idSum := sha256.Sum256(append([]byte("flowgate key id:"), key...))
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, "", err
	}
	return aead, hex.EncodeToString(idSum[:6]), nil
}

// sealGCM encrypts text in Flowgate's format.
func sealGCM(aead cipher.AEAD, id string, text []byte) string {
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, text, aad)
	return gcmPrefix + id + ":" + base64.StdEncoding.EncodeToString(out)
}

// parseGCM splits a Flowgate-format value into key id and sealed bytes.
func parseGCM(data string) (id string, sealed []byte, err error) {
	rest := strings.TrimPrefix(data, gcmPrefix)
	id, b64, ok := strings.Cut(rest, ":")
	if !ok || id == "" {
		return "", nil, fmt.Errorf("malformed %s value", strings.TrimSuffix(gcmPrefix, ":"))
	}
	sealed, err = base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, fmt.Errorf("data is not base64: %w", err)
	}
	return id, sealed, nil
}

// openGCM decrypts sealed bytes; a wrong key or tampered data fails authentication.
func openGCM(aead cipher.AEAD, sealed []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("data is too short (%d bytes)", len(sealed))
	}
	nonce, ct := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	text, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("authentication failed")
	}
	return text, nil
}
