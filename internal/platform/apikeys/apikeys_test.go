package apikeys

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

type vector struct{ APIKey, APISecret string }

func loadVector(t *testing.T) vector {
	t.Helper()
	b := fixture.Read(t, "flowise-test-vectors.json")
	var f struct {
		APIKey struct {
			APIKey    string `json:"apiKey"`
			APISecret string `json:"apiSecret"`
		} `json:"apiKey"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.APIKey.APIKey)
	return vector{f.APIKey.APIKey, f.APIKey.APISecret}
}

func TestFlowiseVector(t *testing.T) {
	v := loadVector(t)
	require.Equal(t, "Cl2LyS1TxkTo5lS3qDyrA3BWNxDOWMs_r_LSjb7mo2E", v.APIKey)
	require.True(t, Verify(v.APIKey, v.APISecret))
	require.True(t, ValidSecret(v.APISecret))
}

func TestVerifyRejects(t *testing.T) {
	v := loadVector(t)
	hash, salt, _ := strings.Cut(v.APISecret, ".")

	require.False(t, Verify(Generate(), v.APISecret), "another key")
	require.False(t, Verify(v.APIKey[:42], v.APISecret), "truncated key")
	require.False(t, Verify(v.APIKey+"x", v.APISecret), "extended key")
	require.False(t, Verify("", v.APISecret), "empty key")
	require.False(t, Verify(v.APIKey, hash+"."+"0000000000000000"), "other salt")

	flipped := []byte(hash)
	flipped[0] ^= 1 // '4' -> '5'
	for _, s := range []string{
		"",
		".",
		"nodot",
		hash,
		hash + ".",
		"." + salt,
		hash[:126] + "." + salt,
		hash + "00." + salt,
		strings.Replace(hash, "4", "z", 1) + "." + salt,
		strings.ToUpper(hash[:2]) + "zz" + hash[4:] + "." + salt,
		hash + "." + strings.Repeat("a", 65),
		string(flipped) + "." + salt,
		"\xff\xfe." + salt,
	} {
		require.NotPanics(t, func() { require.False(t, Verify(v.APIKey, s), "secret %q", s) })
	}
}

func TestGenerateHashPrefix(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 100 {
		k := Generate()
		require.Regexp(t, re, k)
		require.False(t, seen[k])
		seen[k] = true
	}

	k := Generate()
	secret, err := Hash(k)
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{128}\.[0-9a-f]{16}$`, secret)
	require.True(t, Verify(k, secret))
	require.False(t, Verify(Generate(), secret))
	other, err := Hash(k)
	require.NoError(t, err)
	require.NotEqual(t, secret, other, "fresh salt per hash")

	require.Equal(t, k[:8], Prefix(k))
	require.Equal(t, Prefix(k), Prefix(Prefix(k)))
	require.Equal(t, "abc", Prefix("abc"))
}

// countScrypt makes a store count its scrypt runs.
func countScrypt(s Store) *atomic.Int32 {
	var v *verifier
	switch s := s.(type) {
	case *jsonStore:
		v = &s.verifier
	case *dbStore:
		v = &s.verifier
	}
	n := new(atomic.Int32)
	v.scrypt = func(p, secret string) bool { n.Add(1); return Verify(p, secret) }
	return n
}

// testStores runs the behaviour every store shares on two instances a and b over the same
// storage.
func testStores(t *testing.T, a, b Store) {
	ctx := context.Background()

	keys, err := a.List(ctx)
	require.NoError(t, err)
	require.Empty(t, keys)

	k1, p1, err := a.Create(ctx, "first")
	require.NoError(t, err)
	require.Len(t, p1, 43)
	require.Equal(t, Prefix(p1), k1.Prefix)
	require.NotEmpty(t, k1.ID)
	require.True(t, Verify(p1, k1.Secret))
	k2, p2, err := b.Create(ctx, "second")
	require.NoError(t, err)

	// Both instances see both keys, oldest first.
	for _, s := range []Store{a, b} {
		keys, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, keys, 2)
		require.Equal(t, []string{k1.ID, k2.ID}, []string{keys[0].ID, keys[1].ID})
		require.Equal(t, []string{"first", "second"}, []string{keys[0].Name, keys[1].Name})
		require.Equal(t, k1.Prefix, keys[0].Prefix)
		require.Equal(t, k1.Secret, keys[0].Secret)
		require.WithinDuration(t, k1.CreatedAt, keys[0].CreatedAt, time.Millisecond)
	}

	// Verify on either instance, whoever created the key.
	for _, s := range []Store{a, b} {
		got, ok, err := s.Verify(ctx, p1)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, k1.ID, got.ID)
		got, ok, err = s.Verify(ctx, p2)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, k2.ID, got.ID)
	}
	for _, bad := range []string{"", Generate(), p1[:42], k1.Prefix, p1 + "x", k1.Prefix + p2[8:]} {
		_, ok, err := a.Verify(ctx, bad)
		require.NoError(t, err)
		require.False(t, ok, "key %q", bad)
	}

	// Rename.
	require.NoError(t, b.Rename(ctx, k1.ID, "renamed"))
	keys, err = a.List(ctx)
	require.NoError(t, err)
	require.Equal(t, "renamed", keys[0].Name)
	got, ok, err := a.Verify(ctx, p1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "renamed", got.Name)
	require.ErrorIs(t, a.Rename(ctx, "missing", "x"), ErrNotFound)

	// Keys are found by fingerprint: neither a right key nor a wrong guess costs a scrypt
	// run, not even a guess that shares a real key's prefix.
	scrypts := countScrypt(a)
	for range 3 {
		_, ok, err = a.Verify(ctx, p2)
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = a.Verify(ctx, k2.Prefix+Generate()[PrefixLen:])
		require.NoError(t, err)
		require.False(t, ok)
	}
	require.Zero(t, scrypts.Load())

	// A key stored without a fingerprint (before fingerprints) still verifies, by scrypt, once:
	// its fingerprint is recorded, for every instance.
	legacy := Generate()
	legacySecret, err := Hash(legacy)
	require.NoError(t, err)
	require.NoError(t, b.Import(ctx, Key{ID: "legacy", Name: "legacy", Prefix: Prefix(legacy), Secret: legacySecret}))
	scryptsB := countScrypt(b)
	_, ok, err = a.Verify(ctx, Prefix(legacy)+Generate()[PrefixLen:])
	require.NoError(t, err)
	require.False(t, ok)
	require.EqualValues(t, 1, scrypts.Load(), "a guess sharing the prefix of a key without fingerprint costs scrypt")
	got, ok, err = a.Verify(ctx, legacy)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "legacy", got.ID)
	require.EqualValues(t, 2, scrypts.Load())
	for _, s := range []Store{a, b} {
		_, ok, err = s.Verify(ctx, legacy)
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = s.Verify(ctx, Prefix(legacy)+Generate()[PrefixLen:])
		require.NoError(t, err)
		require.False(t, ok)
	}
	require.EqualValues(t, 2, scrypts.Load(), "fingerprint recorded: no more scrypt")
	require.Zero(t, scryptsB.Load())
	require.NoError(t, a.Delete(ctx, "legacy"))

	// Strings no key can be are refused without asking the store.
	for _, bad := range []string{"\x00" + p1, p1[:8] + "\xff\xfe"} {
		_, ok, err = a.Verify(ctx, bad)
		require.NoError(t, err)
		require.False(t, ok)
	}

	// A deletion by the other instance revokes the key at once.
	require.NoError(t, b.Delete(ctx, k2.ID))
	_, ok, err = a.Verify(ctx, p2)
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = b.Verify(ctx, p2)
	require.NoError(t, err)
	require.False(t, ok)
	keys, err = a.List(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, k1.ID, keys[0].ID)
	require.ErrorIs(t, a.Delete(ctx, k2.ID), ErrNotFound)

	// A key re-imported with another secret under the same id loses its fingerprint with it.
	_, ok, err = a.Verify(ctx, p1)
	require.NoError(t, err)
	require.True(t, ok)
	otherSecret, err := Hash(Generate())
	require.NoError(t, err)
	require.NoError(t, b.Import(ctx, Key{ID: k1.ID, Name: "renamed", Prefix: k1.Prefix, Secret: otherSecret, CreatedAt: k1.CreatedAt}))
	_, ok, err = a.Verify(ctx, p1)
	require.NoError(t, err)
	require.False(t, ok)

	// Import checks its input.
	require.Error(t, a.Import(ctx, Key{ID: "x", Prefix: "abc", Secret: "nope"}))
	require.Error(t, a.Import(ctx, Key{ID: "x", Secret: k1.Secret}))
}

func TestJSONStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys") // created on first write
	a, b := NewJSONStore(dir), NewJSONStore(dir)
	testStores(t, a, b)

	// Persistence: a fresh instance reads what the others wrote, and the file keeps no plaintext.
	ctx := context.Background()
	k, plaintext, err := a.Create(ctx, "persisted")
	require.NoError(t, err)
	got, ok, err := NewJSONStore(dir).Verify(ctx, plaintext)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, k.ID, got.ID)

	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	require.NotContains(t, string(raw), plaintext)
	require.NotContains(t, string(raw), plaintext[:PrefixLen+1])
	info, err := os.Stat(filepath.Join(dir, FileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// Flowise's field layout.
	var entries []map[string]any
	require.NoError(t, json.Unmarshal(raw, &entries))
	require.Len(t, entries, 2)
	last := entries[1]
	require.ElementsMatch(t, []string{"keyName", "apiKey", "apiSecret", "keyFingerprint", "createdAt", "id"}, keysOfMap(last))
	require.Equal(t, k.Prefix, last["apiKey"])
	require.Equal(t, Fingerprint(plaintext), last["keyFingerprint"])
	require.Equal(t, k.Secret, last["apiSecret"])
	require.Equal(t, "persisted", last["keyName"])

	// No temp files left behind: the keys and the lock their writers take.
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	var files []string
	for _, n := range names {
		files = append(files, n.Name())
	}
	require.ElementsMatch(t, []string{FileName, lockName}, files)
}

func keysOfMap(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// writeFlowiseFile writes an api.json as Flowise does, with the plaintext key in apiKey.
func writeFlowiseFile(t *testing.T, dir string, v vector) string {
	t.Helper()
	path := filepath.Join(dir, FileName)
	body := `[{"keyName":"DefaultKey","apiKey":"` + v.APIKey + `","apiSecret":"` + v.APISecret +
		`","createdAt":"16-Jan-24","id":"9a1a3d7e1c2b4f5a6b7c8d9e0f1a2b3c"}]`
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func TestJSONStoreReadsFlowiseFile(t *testing.T) {
	ctx := context.Background()
	v := loadVector(t)
	dir := t.TempDir()
	writeFlowiseFile(t, dir, v)

	s := NewJSONStore(dir)
	keys, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, Prefix(v.APIKey), keys[0].Prefix, "List never exposes the plaintext")
	require.Empty(t, keys[0].Fingerprint, "only the secret vouches for a plaintext")
	require.Equal(t, time.Date(2024, 1, 16, 0, 0, 0, 0, time.UTC), keys[0].CreatedAt)

	// The first verification proves the key by scrypt and records its fingerprint, which
	// also cuts Flowise's plaintext down to its prefix.
	scrypts := countScrypt(s)
	got, ok, err := s.Verify(ctx, v.APIKey)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "DefaultKey", got.Name)
	require.EqualValues(t, 1, scrypts.Load())
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	require.NotContains(t, string(raw), v.APIKey)
	require.Contains(t, string(raw), Fingerprint(v.APIKey))

	fresh := NewJSONStore(dir)
	freshScrypts := countScrypt(fresh)
	_, ok, err = fresh.Verify(ctx, v.APIKey)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = fresh.Verify(ctx, Prefix(v.APIKey)+Generate()[PrefixLen:])
	require.NoError(t, err)
	require.False(t, ok)
	require.Zero(t, freshScrypts.Load())
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

func testDBs(t *testing.T) map[string]func() *gorm.DB {
	ctx := context.Background()
	return map[string]func() *gorm.DB{
		"sqlite": func() *gorm.DB {
			dir := t.TempDir()
			open := func() *gorm.DB {
				db, err := models.Open(ctx, models.DBConfig{Type: "sqlite", Path: dir})
				require.NoError(t, err)
				t.Cleanup(func() { closeDB(db) })
				return db
			}
			return open()
		},
		"postgres": func() *gorm.DB {
			name := pgtest.NewDatabase(t)
			db, err := models.Open(ctx, models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: name, User: pgtest.User})
			require.NoError(t, err)
			t.Cleanup(func() { closeDB(db) })
			return db
		},
	}
}

// openTwice opens the same database a second time, as another process would.
func openTwice(t *testing.T, db *gorm.DB) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	var cfg models.DBConfig
	switch db.Dialector.Name() {
	case "postgres":
		var name string
		require.NoError(t, db.Raw("SELECT current_database()").Scan(&name).Error)
		cfg = models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: name, User: pgtest.User}
	default:
		var file string
		rows, err := db.Raw("PRAGMA database_list").Rows()
		require.NoError(t, err)
		for rows.Next() {
			var seq int
			var name string
			var f sql.NullString
			require.NoError(t, rows.Scan(&seq, &name, &f))
			if name == "main" {
				file = f.String
			}
		}
		require.NoError(t, rows.Close())
		cfg = models.DBConfig{Type: "sqlite", Path: filepath.Dir(file)}
	}
	other, err := models.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { closeDB(other) })
	return other
}

func TestDBStore(t *testing.T) {
	for name, open := range testDBs(t) {
		t.Run(name, func(t *testing.T) {
			db := open()
			a, b := NewDBStore(db), NewDBStore(openTwice(t, db))
			testStores(t, a, b)

			// The secret never leaves in JSON.
			var row models.APIKey
			require.NoError(t, db.First(&row).Error)
			js, err := json.Marshal(row)
			require.NoError(t, err)
			require.NotContains(t, string(js), row.APISecret)
			require.Contains(t, string(js), `"keyName"`)
		})
	}
}

func TestImportFlowiseFile(t *testing.T) {
	ctx := context.Background()
	v := loadVector(t)
	path := writeFlowiseFile(t, t.TempDir(), v)

	stores := map[string]func() (Store, func() string){
		"json": func() (Store, func() string) {
			dir := t.TempDir()
			return NewJSONStore(dir), func() string {
				b, err := os.ReadFile(filepath.Join(dir, FileName))
				require.NoError(t, err)
				return string(b)
			}
		},
	}
	for name, open := range testDBs(t) {
		stores[name] = func() (Store, func() string) {
			db := open()
			return NewDBStore(db), func() string {
				var rows []map[string]any
				require.NoError(t, db.Table("apikey").Find(&rows).Error)
				b, err := json.Marshal(rows)
				require.NoError(t, err)
				return string(b)
			}
		}
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s, dump := open()
			n, err := ImportFlowiseFile(ctx, path, s)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			n, err = ImportFlowiseFile(ctx, path, s) // idempotent
			require.NoError(t, err)
			require.Equal(t, 1, n)

			keys, err := s.List(ctx)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			require.Equal(t, "9a1a3d7e1c2b4f5a6b7c8d9e0f1a2b3c", keys[0].ID)
			require.Equal(t, "DefaultKey", keys[0].Name)
			require.Equal(t, Prefix(v.APIKey), keys[0].Prefix)
			require.Equal(t, v.APISecret, keys[0].Secret)

			// The secret proved the plaintext at import: its fingerprint finds it, no scrypt.
			require.Equal(t, Fingerprint(v.APIKey), keys[0].Fingerprint)
			scrypts := countScrypt(s)
			got, ok, err := s.Verify(ctx, v.APIKey)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, "DefaultKey", got.Name)
			_, ok, err = s.Verify(ctx, Prefix(v.APIKey)+Generate()[8:])
			require.NoError(t, err)
			require.False(t, ok)
			require.Zero(t, scrypts.Load())

			stored := dump()
			require.Contains(t, stored, v.APISecret)
			require.NotContains(t, stored, v.APIKey)
			require.NotContains(t, stored, v.APIKey[:PrefixLen+1])
		})
	}

	// An apiKey its secret does not prove gives no fingerprint: the key stays unproven.
	other := Generate()
	mismatched := filepath.Join(t.TempDir(), FileName)
	require.NoError(t, os.WriteFile(mismatched, []byte(`[{"keyName":"k","apiKey":"`+other+`","apiSecret":"`+v.APISecret+`","id":"m"}]`), 0o600))
	s := NewJSONStore(t.TempDir())
	n, err := ImportFlowiseFile(ctx, mismatched, s)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	keys, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Empty(t, keys[0].Fingerprint)
	_, ok, err := s.Verify(ctx, other)
	require.NoError(t, err)
	require.False(t, ok)

	// Bad files import nothing.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	for _, body := range []string{
		`{`,
		`[{"keyName":"k","apiKey":"","apiSecret":"` + v.APISecret + `","id":"a"}]`,
		`[{"keyName":"k","apiKey":"` + v.APIKey + `","apiSecret":"x.y","id":"a"}]`,
	} {
		require.NoError(t, os.WriteFile(bad, []byte(body), 0o600))
		s := NewJSONStore(t.TempDir())
		n, err := ImportFlowiseFile(ctx, bad, s)
		require.Error(t, err, body)
		require.Zero(t, n)
		keys, err := s.List(ctx)
		require.NoError(t, err)
		require.Empty(t, keys)
	}
	n, err = ImportFlowiseFile(ctx, filepath.Join(dir, "missing.json"), NewJSONStore(t.TempDir()))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Zero(t, n)
}

// TestDBStoreKeysFromBeforeFingerprints: a database whose keys were stored before the
// fingerprint column existed migrates, and each of its keys keeps working: proven by scrypt
// once, then found by fingerprint.
func TestDBStoreKeysFromBeforeFingerprints(t *testing.T) {
	ctx := context.Background()
	for name, open := range testDBs(t) {
		t.Run(name, func(t *testing.T) {
			db := open()
			// Take the database back to before migration 9, with a key stored then.
			m := db.Migrator()
			require.NoError(t, m.DropIndex(&models.APIKey{}, "Fingerprint"))
			require.NoError(t, m.DropColumn(&models.APIKey{}, "Fingerprint"))
			require.NoError(t, db.Exec("DELETE FROM flowgate_schema_migrations WHERE version = 9").Error)
			plaintext := Generate()
			secret, err := Hash(plaintext)
			require.NoError(t, err)
			now := time.Now().UTC()
			require.NoError(t, db.Exec(`INSERT INTO apikey (id, "keyName", "keyPrefix", "apiSecret", "createdDate", "updatedDate") VALUES (?, ?, ?, ?, ?, ?)`,
				"old", "old", Prefix(plaintext), secret, now, now).Error)

			require.NoError(t, models.Migrate(db))
			require.True(t, m.HasColumn(&models.APIKey{}, "Fingerprint"))
			require.True(t, m.HasIndex(&models.APIKey{}, "Fingerprint"))

			s := NewDBStore(db)
			scrypts := countScrypt(s)
			for range 3 {
				got, ok, err := s.Verify(ctx, plaintext)
				require.NoError(t, err)
				require.True(t, ok)
				require.Equal(t, "old", got.ID)
			}
			require.EqualValues(t, 1, scrypts.Load(), "scrypt once, then the recorded fingerprint")
			var row models.APIKey
			require.NoError(t, db.First(&row, "id = ?", "old").Error)
			require.NotNil(t, row.Fingerprint)
			require.Equal(t, Fingerprint(plaintext), *row.Fingerprint)
		})
	}
}
