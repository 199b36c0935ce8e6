// Package apikeys creates, stores and verifies API keys in Flowise's format
// (APIKEY_STORAGE_TYPE json or db), with one deliberate difference: the plaintext key is never
// kept at rest. A store holds a short prefix of the key (shown in listings), its fingerprint
// (SHA-256) and Flowise's scrypt secret, and the full key is shown once, when it is created.
//
// A key is 32 random bytes in unpadded base64url (43 characters). Its secret is
// hex(scrypt(key, salt, N=16384, r=8, p=1, 64 bytes)) + "." + salt, where salt is 8 random bytes
// written as 16 hex characters and fed to scrypt as those 16 ASCII bytes, so secrets written by
// Flowise verify here and the other way round.
//
// Keys are verified by fingerprint, not by scrypt: scrypt exists to slow down guessing a
// low-entropy password from its hash, and a key has 256 random bits, so one SHA-256 proves it as
// surely. Looking candidates up by prefix and running scrypt on each, as Flowgate did, let an
// anonymous caller buy a full scrypt run (tens of milliseconds of CPU) with every guess sharing a
// real key's 8 known characters. Now a wrong guess costs one SHA-256 and one indexed lookup.
// Keys stored without a fingerprint (before fingerprints, or read in place from a Flowise
// api.json) are still found by prefix and proven by scrypt, once: the store then records their
// fingerprint.
package apikeys

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/scrypt"
)

// scrypt parameters and sizes, as in Flowise.
const (
	scryptN      = 16384
	scryptR      = 8
	scryptP      = 1
	hashLen      = 64
	saltBytes    = 8
	keyBytes     = 32
	maxSaltChars = 64 // sanity bound on the salt part of a secret
)

// PrefixLen is how many leading characters of a key are stored, to show it in listings and to
// find the records of keys without a fingerprint. Eight base64url characters are 48 bits: enough
// that collisions are rare (a store checks every such record sharing the prefix), and far too
// few to help guess the remaining 210 bits.
const PrefixLen = 8

// Generate returns a new random key: 32 bytes in unpadded base64url, 43 characters.
func Generate() string {
	b := make([]byte, keyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; on a broken system it aborts the program
	return base64.RawURLEncoding.EncodeToString(b)
}

// Prefix is the lookup prefix of a key: its first PrefixLen characters (the whole string when
// it is shorter). Prefix(Prefix(k)) == Prefix(k).
func Prefix(plaintext string) string {
	if len(plaintext) > PrefixLen {
		return plaintext[:PrefixLen]
	}
	return plaintext
}

// Fingerprint is what a store finds a key by: hex(SHA-256(key)), 64 characters.
func Fingerprint(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// validFingerprint reports whether fp has the shape Fingerprint gives.
func validFingerprint(fp string) bool {
	_, err := hex.DecodeString(fp)
	return len(fp) == 2*sha256.Size && err == nil
}

// plausible reports whether plaintext could be a key at all. Anything else is refused before a
// store is asked: PostgreSQL fails a lookup by a prefix with NUL or invalid UTF-8 outright.
func plausible(plaintext string) bool {
	return plaintext != "" && utf8.ValidString(plaintext) && strings.IndexByte(plaintext, 0) < 0
}

// Hash returns Flowise's secret for a key: hex(scrypt(key, salt)) + "." + salt.
func Hash(plaintext string) (string, error) {
	sb := make([]byte, saltBytes)
	_, _ = rand.Read(sb)
	salt := hex.EncodeToString(sb)
	dk, err := scrypt.Key([]byte(plaintext), []byte(salt), scryptN, scryptR, scryptP, hashLen)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(dk) + "." + salt, nil
}

var errMalformedSecret = errors.New("malformed API key secret")

// parseSecret splits a secret into its decoded hash and its salt (kept as text, as Flowise
// uses it).
func parseSecret(secret string) (hash []byte, salt string, err error) {
	i := strings.LastIndexByte(secret, '.')
	if i < 0 {
		return nil, "", errMalformedSecret
	}
	hexHash, salt := secret[:i], secret[i+1:]
	if len(hexHash) != 2*hashLen || salt == "" || len(salt) > maxSaltChars {
		return nil, "", errMalformedSecret
	}
	hash, err = hex.DecodeString(hexHash)
	if err != nil {
		return nil, "", errMalformedSecret
	}
	return hash, salt, nil
}

// ValidSecret reports whether secret has the shape of a Flowise API key secret.
func ValidSecret(secret string) bool {
	_, _, err := parseSecret(secret)
	return err == nil
}

// Verify reports whether plaintext is the key secret was made from. It compares in constant
// time and returns false for a malformed secret.
func Verify(plaintext, secret string) bool {
	want, salt, err := parseSecret(secret)
	if err != nil || plaintext == "" {
		return false
	}
	got, err := scrypt.Key([]byte(plaintext), []byte(salt), scryptN, scryptR, scryptP, hashLen)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}
