package storage_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/testkit/s3test"
)

const mib = 1 << 20

// backend opens a fresh, empty store for one test.
type backend struct {
	name string
	open func(t *testing.T) storage.Store
}

// backends returns Local and S3. All S3 stores of the calling test share one server (stopped
// when that test ends), each in its own bucket.
func backends(t *testing.T) []backend {
	srv := s3test.Start(t)
	var n atomic.Int64
	return []backend{
		{"local", func(t *testing.T) storage.Store {
			l, err := storage.NewLocal(t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { _ = l.Close() })
			return l
		}},
		{"s3", func(t *testing.T) storage.Store {
			bucket := fmt.Sprintf("bucket-%d", n.Add(1))
			srv.CreateBucket(t, bucket)
			return openS3(t, srv.Config(bucket))
		}},
	}
}

func openS3(t *testing.T, cfg storage.Config) storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), cfg)
	require.NoError(t, err)
	return st
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// randomStream yields n deterministic pseudo-random bytes without holding them in memory.
func randomStream(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// onlyReader hides any Seek/Len/WriteTo methods, as an HTTP request body would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// failingReader returns n bytes of data and then an error, like a dropped client upload.
func failingReader(n int64) io.Reader {
	return io.MultiReader(randomStream(9, n), errReader{})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }

// hashGet streams the object through sha256.
func hashGet(t *testing.T, st storage.Store, key string) ([]byte, storage.Object) {
	t.Helper()
	rc, obj, err := st.Get(testCtx(t), key)
	require.NoError(t, err)
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	require.NoError(t, err)
	require.Equal(t, obj.Size, n, "size reported by Get")
	return h.Sum(nil), obj
}

func readAll(t *testing.T, st storage.Store, key string) (string, storage.Object) {
	t.Helper()
	rc, obj, err := st.Get(testCtx(t), key)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b), obj
}
