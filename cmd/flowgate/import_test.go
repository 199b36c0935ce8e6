package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
)

func TestImportCommandFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--flowise-set", "NOEQUALS"}, `--flowise-set wants NAME=VALUE`},
		{[]string{"--export-file", "x.json", "--messages"}, "--export-file reads no Flowise database"},
		{[]string{"--flowise-set", "DATABASE_TYPE=mysql"}, `DATABASE_TYPE "mysql" cannot be imported`},
		{[]string{"--flowise-env", filepath.Join(t.TempDir(), "missing.env")}, "read Flowise settings"},
	} {
		_, err := importCommand(tc.args, io.Discard)
		require.ErrorContains(t, err, tc.want, tc.args)
	}
	cmd, err := importCommand([]string{"--flowise-set", "DATABASE_PATH=/srv/flowise", "--dry-run"}, io.Discard)
	require.NoError(t, err)
	require.NotNil(t, cmd)
}

// TestImportDryRunWritesNothing: a dry run against a Flowgate that has nothing yet leaves its
// data directory as it was (empty: no database, no key file, no api.json), and still counts.
func TestImportDryRunWritesNothing(t *testing.T) {
	flowise := t.TempDir()
	for _, f := range []string{"database.sqlite", "encryption.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(flowise, f), fixture.Read(t, "flowise-3.1.2", "sqlite", f), 0o600))
	}
	data := t.TempDir()
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"FLOWGATE_DATA_DIR": data, "HOME": data}[name]
	})
	require.NoError(t, err)
	var out strings.Builder
	cmd, err := importCommand([]string{"--flowise-set", "DATABASE_PATH=" + flowise, "--flowise-set", "SECRETKEY_PATH=" + flowise,
		"--messages", "--dry-run"}, &out)
	require.NoError(t, err)
	require.NoError(t, cmd(t.Context(), cfg, slog.New(slog.DiscardHandler)))
	require.Contains(t, out.String(), "dry run, nothing written")
	require.Contains(t, out.String(), "chatflows        3 new")
	require.Contains(t, out.String(), "credentials      4 new")
	entries, err := os.ReadDir(data)
	require.NoError(t, err)
	require.Empty(t, entries, "a dry run creates nothing in Flowgate's data directory")
}

func TestSecretSettingsAreNamed(t *testing.T) {
	require.Equal(t, []string{"DATABASE_PASSWORD", "FLOWISE_SECRETKEY_OVERWRITE", "SECRETKEY_AWS_SECRET_KEY"},
		secretSettings([]string{"DATABASE_PATH=/x", "SECRETKEY_PATH=/k", "SECRETKEY_AWS_REGION=eu-west-1", "DATABASE_PASSWORD=p", "FLOWISE_SECRETKEY_OVERWRITE=k", "SECRETKEY_AWS_SECRET_KEY=s"}))
}
