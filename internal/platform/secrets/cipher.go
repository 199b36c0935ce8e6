package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrDecrypt reports that stored credential data could not be decrypted:
// the key is not the one it was encrypted with, or the data is corrupt. The
// two cannot be told apart, since a wrong key just yields garbage.
var ErrDecrypt = errors.New("wrong key or corrupt data")

// errNoKey reports a Cipher built from the zero Key, which would otherwise
// silently encrypt with an empty passphrase.
var errNoKey = errors.New("secrets: cipher has no key (use ResolveKey or NewKey)")

// Layout of the OpenSSL "Salted__" format that crypto-js's AES.encrypt emits
// when given a passphrase, which is what Flowise stores.
const (
	saltedMagic = "Salted__"
	saltLen     = 8
	keyLen      = 32 // AES-256
	headerLen   = len(saltedMagic) + saltLen
)

// Cipher encrypts and decrypts credential data: the Flowise plainDataObj, a
// flat JSON object (normally of strings) keyed by the credential's field names.
// It writes with its current key and reads with the current key or any previous
// one, so rows sealed before a key rotation stay readable until re-encrypted.
// It is safe for concurrent use.
type Cipher struct {
	key      Key
	previous []Key
	aead     cipher.AEAD
	keyID    string
	// byID finds the key of a Flowgate-format value; index 0 is the current key.
	byID map[string]cipher.AEAD
}

// NewCipher returns a Cipher that writes with k and also reads with previous.
func NewCipher(k Key, previous ...Key) *Cipher {
	c := &Cipher{key: k, previous: previous, byID: map[string]cipher.AEAD{}}
	for i, key := range append([]Key{k}, previous...) {
		if key.secret() == "" {
			continue
		}
		aead, id, err := gcmKey(key.secret())
		if err != nil {
			continue // only an impossible key length fails; Encrypt reports errNoKey then
		}
		if i == 0 {
			c.aead, c.keyID = aead, id
		}
		if _, dup := c.byID[id]; !dup {
			c.byID[id] = aead
		}
	}
	return c
}

// KeyID is the public id of the current key, stored beside each row it seals.
func (c *Cipher) KeyID() string { return c.keyID }

// Current reports whether encryptedData is sealed in Flowgate's format with the current key:
// rows that are not need re-encryption after a rotation.
func (c *Cipher) Current(encryptedData string) bool {
	if !strings.HasPrefix(encryptedData, gcmPrefix) {
		return false
	}
	id, _, err := parseGCM(encryptedData)
	return err == nil && id == c.keyID
}

// Encrypt seals the JSON text of plain with the current key, authenticated, in
// Flowgate's format (see gcm.go). A nil map is sealed as the empty object,
// which Decrypt accepts, rather than as JSON null, which it would reject.
func (c *Cipher) Encrypt(plain map[string]any) (string, error) {
	if c.aead == nil {
		return "", errNoKey
	}
	text, err := marshalObject(plain)
	if err != nil {
		return "", fmt.Errorf("encrypting credential data: %w", err)
	}
	return sealGCM(c.aead, c.keyID, text), nil
}

// Decrypt opens data produced by Encrypt or by Flowise and returns the
// credential's fields. Every failure, apart from a Cipher with no key, wraps
// ErrDecrypt and names the key source. In Flowise's format a wrong key is
// caught by the padding check, and in the rare case (about 1 in 256) that the
// garbage happens to end in valid padding, by the requirement that the
// plaintext be a JSON object; Flowgate's format is authenticated.
func (c *Cipher) Decrypt(encryptedData string) (map[string]any, error) {
	if c.aead == nil {
		return nil, errNoKey
	}
	text, err := c.openAny(encryptedData)
	if err != nil {
		return nil, c.decryptError(err)
	}
	plain, err := unmarshalObject(text)
	if err != nil {
		return nil, c.decryptError(err)
	}
	return plain, nil
}

// openAny opens either format with whichever configured key fits.
func (c *Cipher) openAny(data string) ([]byte, error) {
	if strings.HasPrefix(data, gcmPrefix) {
		id, sealed, err := parseGCM(data)
		if err != nil {
			return nil, err
		}
		aead, ok := c.byID[id]
		if !ok {
			return nil, fmt.Errorf("sealed with key %s, which is neither the current key nor a previous one", id)
		}
		return openGCM(aead, sealed)
	}
	var firstErr error
	for _, k := range append([]Key{c.key}, c.previous...) {
		text, err := open(k, data)
		if err == nil {
			// A wrong key passes the padding check about once in 256; only a JSON object
			// counts as opened.
			if _, jerr := unmarshalObject(text); jerr == nil {
				return text, nil
			}
			err = errNotObject
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

var errNotObject = errors.New("decrypted data is not a JSON object")

func (c *Cipher) decryptError(cause error) error {
	return fmt.Errorf("credential could not be decrypted with the %v: %w: %w", c.key, ErrDecrypt, cause)
}

// seal encrypts text under salt and encodes it as base64 of
// "Salted__" ‖ salt ‖ AES-256-CBC(PKCS#7(text)): Flowise's format, kept to prove
// compatibility against Flowise's own output.
func (c *Cipher) seal(text, salt []byte) (string, error) {
	block, iv, err := blockAndIV(c.key, salt)
	if err != nil {
		return "", err
	}
	padded := pkcs7Pad(text)
	out := make([]byte, headerLen+len(padded))
	copy(out, saltedMagic)
	copy(out[len(saltedMagic):], salt)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[headerLen:], padded)
	return base64.StdEncoding.EncodeToString(out), nil
}

// open reverses seal with key k. It checks the shape of the input before
// decrypting, because CBC panics on input that is not a whole number of blocks.
func open(k Key, encryptedData string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil {
		return nil, fmt.Errorf("data is not base64: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(saltedMagic)) {
		return nil, fmt.Errorf("data does not start with %q", saltedMagic)
	}
	if len(raw) < headerLen+aes.BlockSize {
		return nil, fmt.Errorf("data is too short (%d bytes)", len(raw))
	}
	salt, ciphertext := raw[len(saltedMagic):headerLen], raw[headerLen:]
	if len(ciphertext)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("ciphertext length %d is not a multiple of the AES block size", len(ciphertext))
	}
	block, iv, err := blockAndIV(k, salt)
	if err != nil {
		return nil, err
	}
	text := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(text, ciphertext)
	return pkcs7Unpad(text)
}

// blockAndIV derives the AES-256 key and the IV from the passphrase and salt.
func blockAndIV(k Key, salt []byte) (cipher.Block, []byte, error) {
	key, iv := evpBytesToKey([]byte(k.secret()), salt)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("setting up AES: %w", err)
	}
	return block, iv, nil
}

// evpBytesToKey is OpenSSL's EVP_BytesToKey with MD5 and one iteration, the
// derivation crypto-js applies to a passphrase: D_i = MD5(D_{i-1} ‖ passphrase
// ‖ salt), concatenated until there is enough for the key and then the IV.
// MD5 is weak, but Flowise compatibility leaves no choice.
func evpBytesToKey(passphrase, salt []byte) (key, iv []byte) {
	derived := make([]byte, 0, keyLen+aes.BlockSize+md5.Size)
	var prev []byte
	for len(derived) < keyLen+aes.BlockSize {
		h := md5.New()
		h.Write(prev)
		h.Write(passphrase)
		h.Write(salt)
		prev = h.Sum(nil)
		derived = append(derived, prev...)
	}
	return derived[:keyLen], derived[keyLen : keyLen+aes.BlockSize]
}

var errPadding = errors.New("invalid padding")

// pkcs7Pad returns a copy of b padded to a whole number of AES blocks.
func pkcs7Pad(b []byte) []byte {
	n := aes.BlockSize - len(b)%aes.BlockSize
	padded := make([]byte, len(b), len(b)+n)
	copy(padded, b)
	return append(padded, bytes.Repeat([]byte{byte(n)}, n)...)
}

// pkcs7Unpad strips PKCS#7 padding, rejecting anything malformed: that is the
// first sign of a wrong key.
func pkcs7Unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errPadding
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, errPadding
	}
	for _, p := range b[len(b)-n:] {
		if int(p) != n {
			return nil, errPadding
		}
	}
	return b[:len(b)-n], nil
}

// marshalObject encodes plain the way JSON.stringify does as far as it
// matters: no HTML escaping of <, > and &, which credential values may
// contain. Key order differs (Go sorts), which no reader depends on.
func marshalObject(plain map[string]any) ([]byte, error) {
	if plain == nil {
		plain = map[string]any{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plain); err != nil {
		return nil, fmt.Errorf("encoding as JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// unmarshalObject parses decrypted text, which must be a JSON object. The
// JSON error is deliberately dropped: its message quotes the offending input,
// which with the right key is part of a secret.
func unmarshalObject(text []byte) (map[string]any, error) {
	var plain map[string]any
	// A JSON null unmarshals into a nil map without error; it is not an object either.
	if err := json.Unmarshal(text, &plain); err != nil || plain == nil {
		return nil, errors.New("decrypted text is not a JSON object")
	}
	return plain, nil
}

// ErrWrongKey is the start-up refusal: the configured key opens none of the stored rows.
var ErrWrongKey = errors.New("the encryption key cannot decrypt the stored credentials")

// CheckKey decrypts samples of stored data (a canary): when there are samples and none of them
// opens, the key is wrong for this database and the error names its source, so the process
// refuses to start instead of failing every prediction later. It returns how many samples
// failed, for a warning about single corrupt rows.
func (c *Cipher) CheckKey(samples []string) (failed int, err error) {
	for _, s := range samples {
		if _, err := c.Decrypt(s); err != nil {
			failed++
		}
	}
	if len(samples) > 0 && failed == len(samples) {
		return failed, fmt.Errorf("%w: the %v opens none of the %d checked (set the key that encrypted them; during a rotation also set the previous key)", ErrWrongKey, c.key, failed)
	}
	return failed, nil
}
