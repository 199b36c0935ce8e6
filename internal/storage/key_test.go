package storage_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
)

func TestKeyKeepsOrdinaryNames(t *testing.T) {
	for _, name := range []string{
		"my report.v2.pdf",
		"résumé 2024.docx",
		"图片 (1).png",
		"a..b",
		".hidden",
		"...",
		"C:file", // no separator: a plain name on every backend
		// Never URL-decoded, so this is a literal, harmless name (see Key's doc).
		"%2e%2e%2f",
		strings.Repeat("a", storage.MaxSegmentBytes),
	} {
		t.Run(name, func(t *testing.T) {
			key, err := storage.Key("flow-1", "chat-1", name)
			require.NoError(t, err)
			require.Equal(t, "flow-1/chat-1/"+name, key)
		})
	}
}

func TestKeyRejectsUnsafeFileNames(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"parent", "../x"},
		{"dotdot", ".."},
		{"dot", "."},
		{"subdir", "a/b"},
		{"nested traversal", "a/../../b"},
		{"deep traversal", "../../etc/passwd"},
		{"backslash traversal", `..\..\x`},
		{"windows absolute", `C:\Windows\win.ini`},
		{"absolute", "/etc/passwd"},
		{"encoded dots with slash", "%2e%2e/x"},
		{"NUL", "a\x00b"},
		{"newline", "a\nb"},
		{"DEL", "a\x7fb"},
		{"empty", ""},
		{"leading space", " a.pdf"},
		{"trailing space", "a.pdf "},
		{"too long", strings.Repeat("a", 300)},
		{"too long multibyte", strings.Repeat("é", 128)}, // 256 bytes
		{"invalid utf8", "a\xffb"},
		{"reserved", ".flowgate-meta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := storage.Key("flow", "chat", tc.file)
			require.ErrorIs(t, err, storage.ErrInvalidKey)
			require.Empty(t, key)
		})
	}
}

func TestKeyRejectsUnsafeIDs(t *testing.T) {
	for _, bad := range []string{"", "..", ".", "a/b", `a\b`, "x\x00", " id"} {
		_, err := storage.Key(bad, "chat", "f.txt")
		require.ErrorIs(t, err, storage.ErrInvalidKey, "chatflow id %q", bad)
		_, err = storage.Key("flow", bad, "f.txt")
		require.ErrorIs(t, err, storage.ErrInvalidKey, "chat id %q", bad)
		_, err = storage.ChatPrefix("flow", bad)
		require.ErrorIs(t, err, storage.ErrInvalidKey, "chat prefix %q", bad)
		_, err = storage.FlowPrefix(bad)
		require.ErrorIs(t, err, storage.ErrInvalidKey, "flow prefix %q", bad)
	}
}

func TestPrefixes(t *testing.T) {
	p, err := storage.ChatPrefix("flow", "chat")
	require.NoError(t, err)
	require.Equal(t, "flow/chat/", p)
	p, err = storage.FlowPrefix("flow")
	require.NoError(t, err)
	require.Equal(t, "flow/", p)

	key, err := storage.Key("flow", "chat", "x.txt")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(key, p))
}
