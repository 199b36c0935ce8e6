package secrets

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireOnlyKeyFile checks that dir holds the key file and nothing else,
// in particular no temporary files left behind by creation.
func requireOnlyKeyFile(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{KeyFileName}, names)
}

func TestResolveKeyCreatesKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "keys")
	path := filepath.Join(dir, KeyFileName)

	k, err := ResolveKey(t.Context(), KeySourceConfig{Path: dir})
	require.NoError(t, err)
	require.Equal(t, "file "+path, k.Source)

	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dirInfo, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dirInfo.Mode().Perm())

	content, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, content, 32)
	raw, err := base64.StdEncoding.DecodeString(string(content))
	require.NoError(t, err)
	require.Len(t, raw, generatedKeyBytes)
	require.Equal(t, string(content), k.secret())
	requireOnlyKeyFile(t, dir)

	again, err := ResolveKey(t.Context(), KeySourceConfig{Path: dir})
	require.NoError(t, err)
	require.Equal(t, k.secret(), again.secret(), "the second resolve must reuse the key file")
}

func TestResolveKeyReadsExistingFile(t *testing.T) {
	tests := map[string]struct {
		content, want string
	}{
		"as Flowise writes it":         {content: "5KNGX/yQ5JZZRXSU7TxznYgl+Cacli2j", want: "5KNGX/yQ5JZZRXSU7TxznYgl+Cacli2j"},
		"newline kept as Flowise does": {content: "abc\n", want: "abc\n"},
		"CRLF kept":                    {content: "abc\r\n", want: "abc\r\n"},
		"other whitespace verbatim":    {content: " abc \t", want: " abc \t"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFileName), []byte(tt.content), 0o600))

			k, err := ResolveKey(t.Context(), KeySourceConfig{Path: dir})
			require.NoError(t, err)
			require.Equal(t, tt.want, k.secret())
		})
	}
}

func TestResolveKeyRejectsEmptyFile(t *testing.T) {
	for _, content := range []string{"", "\n"} {
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFileName)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

		_, err := ResolveKey(t.Context(), KeySourceConfig{Path: dir})
		require.ErrorContains(t, err, path+" is empty")
	}
}

func TestResolveKeyOverwriteTakesPrecedence(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFileName), []byte("from-file"), 0o600))

	k, err := ResolveKey(t.Context(), KeySourceConfig{Overwrite: " from-env ", Path: dir})
	require.NoError(t, err)
	require.Equal(t, " from-env ", k.secret(), "the overwrite is used verbatim")
	require.Equal(t, OverwriteSource, k.Source)
}

func TestResolveKeyOverwriteCreatesNoFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")

	_, err := ResolveKey(t.Context(), KeySourceConfig{Overwrite: "from-env", Path: dir})
	require.NoError(t, err)
	require.NoDirExists(t, dir)
}

func TestResolveKeyDefaultsToHomeDirectory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	k, err := ResolveKey(t.Context(), KeySourceConfig{})
	require.NoError(t, err)
	require.Equal(t, "file "+filepath.Join(home, defaultKeyDir, KeyFileName), k.Source)
}

func TestResolveKeyReportsUnusableDirectory(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))

	_, err := ResolveKey(t.Context(), KeySourceConfig{Path: notADir})
	require.ErrorContains(t, err, "resolving encryption key")
	require.ErrorContains(t, err, notADir)
}

// Processes starting together on an empty volume must all end up with the
// same key, or credentials encrypted by one would be unreadable to the others.
func TestResolveKeyConcurrentFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	const workers = 64
	keys := make([]Key, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			<-start
			keys[i], errs[i] = ResolveKey(t.Context(), KeySourceConfig{Path: dir})
		})
	}
	close(start)
	wg.Wait()

	for i := range workers {
		require.NoError(t, errs[i])
		require.Equal(t, keys[0].secret(), keys[i].secret(), "worker %d resolved a different key", i)
	}
	requireOnlyKeyFile(t, dir)
}

func TestKeyNeverRevealsPassphrase(t *testing.T) {
	const passphrase = "p4ssphrase-that-must-not-leak"
	k := NewKey(passphrase, "file /x/encryption.key")

	printed := map[string]string{
		"%v %+v %#v":        fmt.Sprintf("%v %+v %#v", k, k, k),
		"pointer":           fmt.Sprintf("%v %+v %#v", &k, &k, &k),
		"other verbs":       fmt.Sprintf("%s %q %x %X %d %t %9.3v", k, k, k, k, k, k, k),
		"exported field":    fmt.Sprintf("%v %+v %#v", struct{ K Key }{k}, struct{ K Key }{k}, struct{ K Key }{k}),
		"unexported field":  fmt.Sprintf("%v %+v %#v", struct{ k Key }{k}, struct{ k Key }{k}, struct{ k Key }{k}),
		"in a slice":        fmt.Sprint([]Key{k}),
		"wrapped in errors": fmt.Errorf("using %v: %w", k, ErrDecrypt).Error(),
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("resolved", "key", k, "ptr", &k, slog.Any("any", k), slog.Group("g", "key", k))
	}
	printed["slog"] = logs.String()

	for name, out := range printed {
		require.NotContains(t, out, passphrase, name)
	}
	require.Equal(t, "key from file /x/encryption.key", k.String())
	require.Equal(t, `secrets.Key{Source: "file /x/encryption.key"}`, fmt.Sprintf("%#v", k))
	require.Contains(t, printed["slog"], "key from file /x/encryption.key")
}

// The losing side of the creation race, made deterministic: a key that
// appears after the read but before the link must win over ours.
func TestCreateKeyFileKeepsExistingKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	require.NoError(t, os.WriteFile(path, []byte("winner"), 0o600))

	require.NoError(t, createKeyFile(path))
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "winner", string(content))
	requireOnlyKeyFile(t, dir)
}
