package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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
