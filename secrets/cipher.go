package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
// It is safe for concurrent use.
type Cipher struct {
	key Key
}

// NewCipher returns a Cipher using k's passphrase.
func NewCipher(k Key) *Cipher {
	return &Cipher{key: k}
}

// Encrypt seals the JSON text of plain under a fresh random salt, in the
// format Flowise stores as Credential.encryptedData. A nil map is sealed as
// the empty object, which Decrypt accepts, rather than as JSON null, which it
// would reject.
func (c *Cipher) Encrypt(plain map[string]any) (string, error) {
	if c.key.secret() == "" {
		return "", errNoKey
	}
	text, err := marshalObject(plain)
	if err != nil {
		return "", fmt.Errorf("encrypting credential data: %w", err)
	}
	salt := make([]byte, saltLen)
	// crypto/rand.Read never returns an error; it aborts the program instead.
	_, _ = rand.Read(salt)
	sealed, err := c.seal(text, salt)
	if err != nil {
		return "", fmt.Errorf("encrypting credential data: %w", err)
	}
	return sealed, nil
}

// Decrypt opens data produced by Encrypt or by Flowise and returns the
// credential's fields. Every failure, apart from a Cipher with no key, wraps
// ErrDecrypt and names the key source. A wrong key is caught by the padding check, and in the rare case
// (about 1 in 256) that the garbage happens to end in valid padding, by the
// requirement that the plaintext be a JSON object.
func (c *Cipher) Decrypt(encryptedData string) (map[string]any, error) {
	if c.key.secret() == "" {
		return nil, errNoKey
	}
	text, err := c.open(encryptedData)
	if err != nil {
		return nil, c.decryptError(err)
	}
	plain, err := unmarshalObject(text)
	if err != nil {
		return nil, c.decryptError(err)
	}
	return plain, nil
}

func (c *Cipher) decryptError(cause error) error {
	return fmt.Errorf("credential could not be decrypted with the %v: %w: %w", c.key, ErrDecrypt, cause)
}

// seal encrypts text under salt and encodes it as base64 of
// "Salted__" ‖ salt ‖ AES-256-CBC(PKCS#7(text)).
func (c *Cipher) seal(text, salt []byte) (string, error) {
	block, iv, err := c.blockAndIV(salt)
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

// open reverses seal. It checks the shape of the input before decrypting,
// because CBC panics on input that is not a whole number of blocks.
func (c *Cipher) open(encryptedData string) ([]byte, error) {
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
	block, iv, err := c.blockAndIV(salt)
	if err != nil {
		return nil, err
	}
	text := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(text, ciphertext)
	return pkcs7Unpad(text)
}

// blockAndIV derives the AES-256 key and the IV from the passphrase and salt.
func (c *Cipher) blockAndIV(salt []byte) (cipher.Block, []byte, error) {
	key, iv := evpBytesToKey([]byte(c.key.secret()), salt)
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
