package storage_test

import (
	"context"
	"crypto/sha256"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
)

// behaviours run unchanged against every backend, so Local and S3 stay interchangeable.
var behaviours = []struct {
	name string
	run  func(t *testing.T, st storage.Store)
}{
	{"round trip keeps content and type", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		key, err := storage.Key("flow", "chat", "my report.v2.pdf")
		require.NoError(t, err)
		require.NoError(t, st.Put(ctx, key, strings.NewReader("%PDF-1.7"), 8, "application/pdf"))
		body, obj := readAll(t, st, key)
		require.Equal(t, "%PDF-1.7", body)
		require.Equal(t, storage.Object{Key: key, Size: 8, ContentType: "application/pdf"}, obj)

		// A type the caller chose wins over the extension.
		require.NoError(t, st.Put(ctx, "flow/chat/data.bin", strings.NewReader("png"), 3, "image/png"))
		_, obj = readAll(t, st, "flow/chat/data.bin")
		require.Equal(t, "image/png", obj.ContentType)
	}},
	{"missing content type comes from the extension", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		require.NoError(t, st.Put(ctx, "flow/chat/pic.png", strings.NewReader("x"), 1, ""))
		require.NoError(t, st.Put(ctx, "flow/chat/noext", strings.NewReader("x"), 1, ""))
		_, obj := readAll(t, st, "flow/chat/pic.png")
		require.Equal(t, "image/png", obj.ContentType)
		_, obj = readAll(t, st, "flow/chat/noext")
		require.Equal(t, "application/octet-stream", obj.ContentType)
	}},
	{"empty object", func(t *testing.T, st storage.Store) {
		require.NoError(t, st.Put(testCtx(t), "flow/chat/empty.txt", strings.NewReader(""), 0, "text/plain"))
		body, obj := readAll(t, st, "flow/chat/empty.txt")
		require.Empty(t, body)
		require.Zero(t, obj.Size)
	}},
	{"overwrite replaces content and type", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		key := "flow/chat/note"
		require.NoError(t, st.Put(ctx, key, strings.NewReader("first version"), 13, "text/plain"))
		require.NoError(t, st.Put(ctx, key, strings.NewReader("v2"), 2, "text/markdown"))
		body, obj := readAll(t, st, key)
		require.Equal(t, "v2", body)
		require.Equal(t, int64(2), obj.Size)
		require.Equal(t, "text/markdown", obj.ContentType)
	}},
	{"not found", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		_, _, err := st.Get(ctx, "flow/chat/missing.txt")
		require.ErrorIs(t, err, storage.ErrNotFound)

		// A prefix holding objects is not itself an object.
		require.NoError(t, st.Put(ctx, "flow/chat/file.txt", strings.NewReader("x"), 1, ""))
		_, _, err = st.Get(ctx, "flow/chat")
		require.ErrorIs(t, err, storage.ErrNotFound)
		// Nor is a "directory" below an object.
		_, _, err = st.Get(ctx, "flow/chat/file.txt/below")
		require.ErrorIs(t, err, storage.ErrNotFound)
	}},
	{"delete prefix removes only that prefix", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		keys := []string{
			"flow1/chat1/a.txt", "flow1/chat1/sub/b.txt", // the chat to delete
			"flow1/chat2/a.txt",  // sibling chat
			"flow1/chat1x/a.txt", // sibling whose name starts with the deleted one
			"flow2/chat1/a.txt",  // another chatflow
		}
		for _, k := range keys {
			require.NoError(t, st.Put(ctx, k, strings.NewReader(k), int64(len(k)), ""))
		}
		chat, err := storage.ChatPrefix("flow1", "chat1")
		require.NoError(t, err)
		require.NoError(t, st.DeletePrefix(ctx, chat))
		requireGone(t, st, keys[0], keys[1])
		requirePresent(t, st, keys[2], keys[3], keys[4])

		require.NoError(t, st.DeletePrefix(ctx, chat), "deleting a missing prefix is not an error")
		require.NoError(t, st.DeletePrefix(ctx, "nothing-here/"))

		flow, err := storage.FlowPrefix("flow1")
		require.NoError(t, err)
		require.NoError(t, st.DeletePrefix(ctx, flow))
		requireGone(t, st, keys[2], keys[3])
		requirePresent(t, st, keys[4])

		// The objects can be written again afterwards.
		require.NoError(t, st.Put(ctx, keys[0], strings.NewReader("again"), 5, ""))
		body, _ := readAll(t, st, keys[0])
		require.Equal(t, "again", body)
	}},
	{"delete prefix without trailing slash matches like S3", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		for _, k := range []string{"f/report.pdf", "f/report-old.pdf", "f/other.pdf"} {
			require.NoError(t, st.Put(ctx, k, strings.NewReader(k), int64(len(k)), ""))
		}
		require.NoError(t, st.DeletePrefix(ctx, "f/report"))
		requireGone(t, st, "f/report.pdf", "f/report-old.pdf")
		requirePresent(t, st, "f/other.pdf")
	}},
	{"invalid keys are refused", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		for _, k := range []string{"", "../x", "a/../../b", "/etc/passwd", "a//b", "a/b/", `..\x`, "a/./b", "x\x00y"} {
			require.ErrorIs(t, st.Put(ctx, k, strings.NewReader("x"), 1, ""), storage.ErrInvalidKey, "put %q", k)
			_, _, err := st.Get(ctx, k)
			require.ErrorIs(t, err, storage.ErrInvalidKey, "get %q", k)
		}
		for _, p := range []string{"", "/", "../", "a/../"} {
			require.ErrorIs(t, st.DeletePrefix(ctx, p), storage.ErrInvalidKey, "delete prefix %q", p)
		}
	}},
	{"50 MB streams in and out", func(t *testing.T, st storage.Store) {
		const size = 50 * mib
		h := sha256.New()
		key := "flow/chat/big.bin"
		require.NoError(t, st.Put(testCtx(t), key, io.TeeReader(randomStream(1, size), h), size, ""))
		got, obj := hashGet(t, st, key)
		require.Equal(t, h.Sum(nil), got)
		require.Equal(t, int64(size), obj.Size)
	}},
	{"unknown size", func(t *testing.T, st storage.Store) {
		// Small (single request on S3) and multi-part sizes not aligned to a part boundary.
		for i, size := range []int64{0, 1000, 20*mib + 123} {
			h := sha256.New()
			key := "flow/chat/unknown-" + string(rune('a'+i))
			body := onlyReader{io.TeeReader(randomStream(uint64(i), size), h)}
			require.NoError(t, st.Put(testCtx(t), key, body, -1, ""))
			got, obj := hashGet(t, st, key)
			require.Equal(t, h.Sum(nil), got, "size %d", size)
			require.Equal(t, size, obj.Size)
		}
	}},
	{"size mismatch fails and keeps the old object", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		key := "flow/chat/doc.txt"
		require.NoError(t, st.Put(ctx, key, strings.NewReader("original"), 8, ""))
		require.Error(t, st.Put(ctx, key, strings.NewReader("short"), 10, ""))
		require.Error(t, st.Put(ctx, key, strings.NewReader("much too long"), 4, ""))
		require.Error(t, st.Put(ctx, key, onlyReader{randomStream(3, 9*mib)}, 20*mib, ""), "short multipart body")
		body, _ := readAll(t, st, key)
		require.Equal(t, "original", body)
	}},
	{"failing body leaves no object", func(t *testing.T, st storage.Store) {
		ctx := testCtx(t)
		err := st.Put(ctx, "flow/chat/partial.bin", failingReader(10*mib), -1, "")
		require.ErrorContains(t, err, "client went away")
		_, _, err = st.Get(ctx, "flow/chat/partial.bin")
		require.ErrorIs(t, err, storage.ErrNotFound)
	}},
	{"cancelled context", func(t *testing.T, st storage.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := st.Put(ctx, "flow/chat/x", strings.NewReader("x"), 1, "")
		require.ErrorIs(t, err, context.Canceled)
		_, _, err = st.Get(ctx, "flow/chat/x")
		require.ErrorIs(t, err, context.Canceled)
		require.Error(t, st.Check(ctx))
	}},
	{"check", func(t *testing.T, st storage.Store) {
		require.NoError(t, st.Check(testCtx(t)))
	}},
}

func TestStoreBehaviour(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, bh := range behaviours {
				t.Run(bh.name, func(t *testing.T) { bh.run(t, b.open(t)) })
			}
		})
	}
}

func requireGone(t *testing.T, st storage.Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, _, err := st.Get(testCtx(t), k)
		require.ErrorIs(t, err, storage.ErrNotFound, "%s should be deleted", k)
	}
}

func requirePresent(t *testing.T, st storage.Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		body, _ := readAll(t, st, k)
		require.Equal(t, k, body, "%s should survive", k)
	}
}
