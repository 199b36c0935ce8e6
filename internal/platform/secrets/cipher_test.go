package secrets

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"
)

type credentialVector struct {
	Passphrase     string         `json:"passphrase"`
	CredentialName string         `json:"credentialName"`
	EncryptedData  string         `json:"encryptedData"`
	PlainDataObj   map[string]any `json:"plainDataObj"`
}

func loadCredentialVector(t testing.TB) credentialVector {
	t.Helper()
	data := fixture.Read(t, "flowise-test-vectors.json") // values made by a real Flowise server: matching them is the point
	var vectors struct {
		Credential credentialVector `json:"credential"`
	}
	require.NoError(t, json.Unmarshal(data, &vectors), "parsing the test vectors")
	require.NotEmpty(t, vectors.Credential.EncryptedData, "the test vectors have no credential vector")
	return vectors.Credential
}

func (v credentialVector) cipher() *Cipher {
	return NewCipher(NewKey(v.Passphrase, "test vector"))
}

func TestDecryptFlowiseVector(t *testing.T) {
	v := loadCredentialVector(t)

	plain, err := v.cipher().Decrypt(v.EncryptedData)
	require.NoError(t, err)
	require.Equal(t, v.PlainDataObj, plain)
	require.Equal(t, map[string]any{"openAIApiKey": "sk-mock-dummy"}, plain)
}

func TestEncryptMatchesFlowiseByteForByte(t *testing.T) {
	v := loadCredentialVector(t)
	raw, err := base64.StdEncoding.DecodeString(v.EncryptedData)
	require.NoError(t, err)
	salt := raw[len(saltedMagic):headerLen]

	text, err := marshalObject(v.PlainDataObj)
	require.NoError(t, err)
	sealed, err := v.cipher().seal(text, salt)
	require.NoError(t, err)
	require.Equal(t, v.EncryptedData, sealed)
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	c := NewCipher(NewKey("round-trip passphrase", "test"))
	tests := map[string]struct {
		plain, want map[string]any
	}{
		"single field": {
			plain: map[string]any{"openAIApiKey": "sk-123"},
			want:  map[string]any{"openAIApiKey": "sk-123"},
		},
		"several fields and non-ASCII": {
			plain: map[string]any{"user": "ünïcødé ✓", "password": "p@ss<&>\"\\", "empty": ""},
			want:  map[string]any{"user": "ünïcødé ✓", "password": "p@ss<&>\"\\", "empty": ""},
		},
		"exactly one block of JSON": {
			plain: map[string]any{"k": "0123456"}, // {"k":"0123456"} is 16 bytes
			want:  map[string]any{"k": "0123456"},
		},
		"non-string values": {
			plain: map[string]any{"n": 1.5, "b": true},
			want:  map[string]any{"n": 1.5, "b": true},
		},
		"empty map": {plain: map[string]any{}, want: map[string]any{}},
		"nil map":   {plain: nil, want: map[string]any{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			sealed, err := c.Encrypt(tt.plain)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(sealed, gcmPrefix+c.KeyID()+":"), "%q is not Flowgate's format with the key id", sealed)

			plain, err := c.Decrypt(sealed)
			require.NoError(t, err)
			require.Equal(t, tt.want, plain)
		})
	}
}

func TestEncryptUsesFreshSalt(t *testing.T) {
	c := NewCipher(NewKey("salt test", "test"))
	plain := map[string]any{"apiKey": "same"}

	first, err := c.Encrypt(plain)
	require.NoError(t, err)
	second, err := c.Encrypt(plain)
	require.NoError(t, err)
	require.NotEqual(t, first, second)
}

func TestEncryptWritesJSONLikeJavaScript(t *testing.T) {
	text, err := marshalObject(map[string]any{"url": "https://x/?a=1&b=<2>"})
	require.NoError(t, err)
	require.Equal(t, `{"url":"https://x/?a=1&b=<2>"}`, string(text))
}

func TestEncryptRejectsUnencodableValues(t *testing.T) {
	c := NewCipher(NewKey("p", "test"))
	_, err := c.Encrypt(map[string]any{"f": func() {}})
	require.ErrorContains(t, err, "encrypting credential data")
}

func TestDecryptWithWrongKey(t *testing.T) {
	v := loadCredentialVector(t)
	const wrong = "not-the-passphrase"
	c := NewCipher(NewKey(wrong, "file /x/encryption.key"))

	plain, err := c.Decrypt(v.EncryptedData)
	require.ErrorIs(t, err, ErrDecrypt)
	require.Nil(t, plain)
	require.ErrorContains(t, err, "credential could not be decrypted with the key from file /x/encryption.key: ")
	require.NotContains(t, err.Error(), wrong)
}

// A wrong key leaves valid-looking padding about once in 256 tries; the JSON
// check must catch those too. The search is deterministic, so the test is.
func TestDecryptWithWrongKeyThatPassesPadding(t *testing.T) {
	v := loadCredentialVector(t)
	for i := range 100_000 {
		k := NewKey("wrong-"+strconv.Itoa(i), "test")
		c := NewCipher(k)
		if _, err := open(k, v.EncryptedData); err != nil {
			continue // caught by the padding check; not the case under test
		}
		_, err := c.Decrypt(v.EncryptedData)
		require.ErrorIs(t, err, ErrDecrypt)
		return
	}
	t.Fatal("found no wrong key whose output has valid padding")
}

func TestDecryptCorruptData(t *testing.T) {
	v := loadCredentialVector(t)
	raw, err := base64.StdEncoding.DecodeString(v.EncryptedData)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString
	modified := func(edit func(b []byte) []byte) string {
		return b64(edit(append([]byte(nil), raw...)))
	}

	tests := map[string]string{
		"empty":                        "",
		"not base64":                   "this is not base64!",
		"magic only":                   b64([]byte(saltedMagic)),
		"no ciphertext":                b64(raw[:headerLen]),
		"partial block":                b64(raw[:len(raw)-1]),
		"last block dropped":           b64(raw[:len(raw)-16]),
		"wrong magic":                  modified(func(b []byte) []byte { b[7] = 'X'; return b }),
		"no magic":                     b64(raw[len(saltedMagic):]),
		"salt altered":                 modified(func(b []byte) []byte { b[len(saltedMagic)] ^= 1; return b }),
		"first block altered":          modified(func(b []byte) []byte { b[headerLen] ^= 0x80; return b }),
		"last ciphertext byte flipped": modified(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }),
	}
	c := v.cipher()
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			plain, err := c.Decrypt(data)
			require.ErrorIs(t, err, ErrDecrypt)
			require.Nil(t, plain)
			require.ErrorContains(t, err, "with the key from test vector")
		})
	}
}

func TestDecryptRejectsPlaintextThatIsNotAnObject(t *testing.T) {
	c := NewCipher(NewKey("p", "test"))
	salt := []byte("12345678")
	for _, text := range []string{
		"null", "[]", `"sk-secret"`, "42", "", "{", `{"a":"sk-secret"`, `{} {}`, `{"a":"sk-secret"}x`,
	} {
		t.Run(strconv.Quote(text), func(t *testing.T) {
			sealed, err := c.seal([]byte(text), salt)
			require.NoError(t, err)

			_, err = c.Decrypt(sealed)
			require.ErrorIs(t, err, ErrDecrypt)
			require.NotContains(t, err.Error(), "sk-secret", "errors must not quote decrypted text")
		})
	}
}

func TestCipherWithZeroKey(t *testing.T) {
	c := NewCipher(Key{})

	_, err := c.Encrypt(map[string]any{"a": "b"})
	require.ErrorIs(t, err, errNoKey)
	_, err = c.Decrypt(loadCredentialVector(t).EncryptedData)
	require.ErrorIs(t, err, errNoKey)
}

func FuzzDecrypt(f *testing.F) {
	v := loadCredentialVector(f)
	raw, err := base64.StdEncoding.DecodeString(v.EncryptedData)
	require.NoError(f, err)
	f.Add(v.EncryptedData)
	f.Add(base64.StdEncoding.EncodeToString(raw[:len(raw)-1]))
	f.Add(base64.StdEncoding.EncodeToString(raw[:headerLen]))
	f.Add("U2FsdGVkX18=")
	f.Add("")
	f.Add("%%%")

	c := v.cipher()
	f.Fuzz(func(t *testing.T, data string) {
		plain, err := c.Decrypt(data)
		if err != nil {
			require.ErrorIs(t, err, ErrDecrypt)
			require.Nil(t, plain)
			return
		}
		require.NotNil(t, plain)
	})
}

// What Flowgate writes is authenticated and names its key; rows of a previous key stay
// readable while a rotation runs, and are reported as needing re-encryption.
func TestRotationKeyring(t *testing.T) {
	oldKey, newKey := NewKey("old passphrase", "test old"), NewKey("new passphrase", "test new")
	oldC := NewCipher(oldKey)
	sealedOld, err := oldC.Encrypt(map[string]any{"openAIApiKey": "sk-old"})
	require.NoError(t, err)
	flowise := loadCredentialVector(t)

	both := NewCipher(newKey, oldKey, NewKey(flowise.Passphrase, "flowise"))
	require.NotEqual(t, oldC.KeyID(), both.KeyID())
	got, err := both.Decrypt(sealedOld)
	require.NoError(t, err)
	require.Equal(t, "sk-old", got["openAIApiKey"])
	require.False(t, both.Current(sealedOld))
	got, err = both.Decrypt(flowise.EncryptedData)
	require.NoError(t, err, "a Flowise row decrypts with a previous key too")
	require.Equal(t, flowise.PlainDataObj, got)
	require.False(t, both.Current(flowise.EncryptedData))

	sealedNew, err := both.Encrypt(got)
	require.NoError(t, err)
	require.True(t, both.Current(sealedNew))

	// Without the old key, its rows fail clearly; tampering is always caught.
	_, err = NewCipher(newKey).Decrypt(sealedOld)
	require.ErrorIs(t, err, ErrDecrypt)
	require.ErrorContains(t, err, "neither the current key nor a previous one")
	tampered := []byte(sealedNew)
	tampered[len(tampered)-3] ^= 1
	_, err = both.Decrypt(string(tampered))
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestCheckKey(t *testing.T) {
	right := NewCipher(NewKey("right", "file /data/encryption.key"))
	a, err := right.Encrypt(map[string]any{"k": "1"})
	require.NoError(t, err)
	b, err := right.Encrypt(map[string]any{"k": "2"})
	require.NoError(t, err)

	failed, err := right.CheckKey([]string{a, b, "corrupt"})
	require.NoError(t, err, "one corrupt row is a warning, not a refusal")
	require.Equal(t, 1, failed)
	_, err = right.CheckKey(nil)
	require.NoError(t, err, "an empty database proves nothing and refuses nothing")

	wrong := NewCipher(NewKey("wrong", "FLOWISE_SECRETKEY_OVERWRITE"))
	_, err = wrong.CheckKey([]string{a, b})
	require.ErrorIs(t, err, ErrWrongKey)
	require.ErrorContains(t, err, "key from FLOWISE_SECRETKEY_OVERWRITE")
	require.NotContains(t, err.Error(), "wrong")
}
