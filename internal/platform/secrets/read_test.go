package secrets

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadKeyNeverCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	_, err := ReadKey(t.Context(), KeySourceConfig{Path: dir})
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoDirExists(t, dir, "a missing key file is not created")

	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFileName), []byte("pass\n"), 0o600))
	k, err := ReadKey(t.Context(), KeySourceConfig{Path: dir})
	require.NoError(t, err)
	require.Equal(t, "pass\n", k.secret(), "read verbatim, as Flowise does")

	k, err = ReadKey(t.Context(), KeySourceConfig{Path: dir, Overwrite: "over"})
	require.NoError(t, err)
	require.Equal(t, "over", k.secret())
	require.Equal(t, OverwriteSource, k.Source)

	_, err = ReadKey(t.Context(), KeySourceConfig{Path: dir, StorageType: "vault"})
	require.ErrorContains(t, err, `unknown key storage type "vault"`)
}

func TestReadKeyAWSReadsButNeverCreates(t *testing.T) {
	isolateAWSEnv(t)
	fake := newFakeSecretsManager(t)
	cfg := awsConfig(t, fake.start())
	_, err := ReadKey(t.Context(), cfg)
	require.ErrorContains(t, err, "key from AWS Secrets Manager secret FlowiseEncryptionKey (us-east-1)")
	require.Zero(t, fake.createdCount(), "a missing secret is not created")
	require.Equal(t, []string{"GetSecretValue FlowiseEncryptionKey"}, fake.recorded())

	fake.secrets["flowise/key"] = "the-flowise-passphrase"
	cfg.AWS.Name = "flowise/key"
	k, err := ReadKey(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, "the-flowise-passphrase", k.secret())
	require.NoDirExists(t, cfg.Path)
}
