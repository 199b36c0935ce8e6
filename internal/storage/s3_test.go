package storage_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/testkit/s3test"
)

func TestS3UnreachableFailsFast(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	st := openS3(t, srv.Config("uploads"))
	require.NoError(t, st.Put(testCtx(t), "f/c/a.txt", strings.NewReader("a"), 1, ""))
	srv.Stop()

	for _, op := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"put", func(ctx context.Context) error {
			return st.Put(ctx, "f/c/b.txt", strings.NewReader("b"), 1, "")
		}},
		{"get", func(ctx context.Context) error {
			_, _, err := st.Get(ctx, "f/c/a.txt")
			return err
		}},
		{"check", func(ctx context.Context) error { return st.Check(ctx) }},
		{"delete prefix", func(ctx context.Context) error { return st.DeletePrefix(ctx, "f/") }},
	} {
		t.Run(op.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			err := op.call(ctx)
			elapsed := time.Since(start)
			require.Error(t, err)
			require.NotErrorIs(t, err, storage.ErrNotFound, "an outage must not look like a missing object")
			require.ErrorContains(t, err, "s3 "+op.name)
			require.Less(t, elapsed, 3*time.Second, "should fail well before the 5 s deadline")
		})
	}
}

// A server that accepts connections but never answers must not hold callers past ctx.
func TestS3SilentServerRespectsDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	st := openS3(t, storage.Config{
		Type: "s3", Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s",
		Endpoint: "http://" + l.Addr().String(), ForcePathStyle: true,
	})
	for name, call := range map[string]func(context.Context) error{
		"check": st.Check,
		"put": func(ctx context.Context) error {
			return st.Put(ctx, "f/c/x", strings.NewReader("x"), 1, "")
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		require.Error(t, err, name)
		require.ErrorContains(t, err, "s3 "+name)
		require.Less(t, time.Since(start), 3*time.Second, name)
	}
}

func TestS3ErrorsDoNotLeakSecrets(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	cfg := srv.Config("uploads")
	cfg.SecretAccessKey = "wrong-secret-do-not-print"
	st := openS3(t, cfg)
	err := st.Put(testCtx(t), "f/c/x.txt", strings.NewReader("x"), 1, "")
	require.Error(t, err)
	require.NotContains(t, err.Error(), cfg.SecretAccessKey)
	require.NotContains(t, err.Error(), srv.SecretKey)
	require.Error(t, st.Check(testCtx(t)))
}

func TestS3MissingBucketIsNotNotFound(t *testing.T) {
	srv := s3test.Start(t)
	st := openS3(t, srv.Config("never-created"))
	_, _, err := st.Get(testCtx(t), "f/c/x.txt")
	require.Error(t, err)
	require.NotErrorIs(t, err, storage.ErrNotFound, "a missing bucket is a misconfiguration")
	require.ErrorContains(t, st.Check(testCtx(t)), "never-created")
}

func TestS3StoresContentTypeNatively(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	st := openS3(t, srv.Config("uploads"))
	require.NoError(t, st.Put(testCtx(t), "f/c/doc", strings.NewReader("x"), 1, "text/csv"))
	head, err := srv.Client().HeadObject(testCtx(t), &s3.HeadObjectInput{
		Bucket: aws.String("uploads"), Key: aws.String("f/c/doc"),
	})
	require.NoError(t, err)
	require.Equal(t, "text/csv", aws.ToString(head.ContentType))
}

func TestS3FailedUploadLeavesNoParts(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	st := openS3(t, srv.Config("uploads"))
	// 20 MiB: at least two parts are uploaded before the body fails.
	require.Error(t, st.Put(testCtx(t), "f/c/big.bin", failingReader(20*mib), -1, ""))
	out, err := srv.Client().ListMultipartUploads(testCtx(t), &s3.ListMultipartUploadsInput{
		Bucket: aws.String("uploads"),
	})
	require.NoError(t, err)
	require.Empty(t, out.Uploads, "multipart upload should have been aborted")
}

// More objects than one list page / DeleteObjects batch (1000).
func TestS3DeletePrefixPaginates(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	st := openS3(t, srv.Config("uploads"))
	ctx := testCtx(t)
	const n = 1010
	keys := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for k := range keys {
				if err := st.Put(ctx, k, strings.NewReader("x"), 1, ""); err != nil {
					t.Errorf("put %s: %v", k, err)
				}
			}
		})
	}
	for i := range n {
		keys <- fmt.Sprintf("flow/chat/%04d.txt", i)
	}
	close(keys)
	wg.Wait()
	require.NoError(t, st.Put(ctx, "flow/other/keep.txt", strings.NewReader("x"), 1, ""))

	require.NoError(t, st.DeletePrefix(ctx, "flow/chat/"))
	out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("uploads")})
	require.NoError(t, err)
	require.Len(t, out.Contents, 1)
	require.Equal(t, "flow/other/keep.txt", aws.ToString(out.Contents[0].Key))
}
