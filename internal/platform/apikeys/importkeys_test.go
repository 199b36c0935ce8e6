package apikeys

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportKeysAllOrNone: a batch with one malformed key imports none of it, in either store;
// a good batch imports every key, and again changes nothing.
func TestImportKeysAllOrNone(t *testing.T) {
	ctx := context.Background()
	stores := map[string]func() Store{"json": func() Store { return NewJSONStore(t.TempDir()) }}
	for name, open := range testDBs(t) {
		stores[name] = func() Store { return NewDBStore(open()) }
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open()
			var good []Key
			for _, id := range []string{"a", "b"} {
				plaintext := Generate()
				secret, err := Hash(plaintext)
				require.NoError(t, err)
				good = append(good, Key{ID: id, Name: id, Prefix: Prefix(plaintext), Fingerprint: Fingerprint(plaintext), Secret: secret})
			}
			bad := append(append([]Key(nil), good...), Key{ID: "c", Name: "c", Prefix: "abc", Secret: "not.a.secret"})
			require.Error(t, ImportKeys(ctx, s, bad))
			keys, err := s.List(ctx)
			require.NoError(t, err)
			require.Empty(t, keys)
			require.NoError(t, ImportKeys(ctx, s, good))
			require.NoError(t, ImportKeys(ctx, s, good))
			keys, err = s.List(ctx)
			require.NoError(t, err)
			require.Len(t, keys, 2)
		})
	}
}
