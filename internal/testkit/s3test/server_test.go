package s3test_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/s3test"
)

func TestServerServesS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := srv.Client()
	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("uploads"), Key: aws.String("a/b.txt"), Body: strings.NewReader("hello"),
	})
	require.NoError(t, err)
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("uploads")})
	require.NoError(t, err)
	require.Len(t, out.Contents, 1)
	require.Equal(t, "a/b.txt", aws.ToString(out.Contents[0].Key))
}

func TestServersAreIsolated(t *testing.T) {
	a, b := s3test.Start(t), s3test.Start(t)
	require.NotEqual(t, a.Endpoint, b.Endpoint)
	require.NotEqual(t, a.AccessKey, b.AccessKey)
	a.CreateBucket(t, "only-on-a")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.Client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("only-on-a")})
	require.Error(t, err)
}

func TestStopMakesRequestsFailFast(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "bkt")
	srv.Stop()
	srv.Stop() // idempotent

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := srv.Client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bkt")})
	require.Error(t, err)
	require.Less(t, time.Since(start), 4*time.Second, "a stopped server must refuse, not hang")
}

func TestConfigAndEnvDescribeServer(t *testing.T) {
	srv := s3test.Start(t)
	cfg := srv.Config("bkt")
	require.Equal(t, "s3", cfg.Type)
	require.Equal(t, "bkt", cfg.Bucket)
	require.Equal(t, srv.Endpoint, cfg.Endpoint)
	require.True(t, cfg.ForcePathStyle)
	require.Contains(t, srv.Env("bkt"), "S3_ENDPOINT_URL="+srv.Endpoint)
	require.Contains(t, srv.Env("bkt"), "S3_STORAGE_BUCKET_NAME=bkt")
}

func TestBinaryIsCached(t *testing.T) {
	first, err := s3test.Binary()
	require.NoError(t, err)
	second, err := s3test.Binary()
	require.NoError(t, err)
	require.Equal(t, first, second)
}

func TestBinaryOverrideMustBeExecutable(t *testing.T) {
	t.Setenv("FLOWGATE_VERSITYGW", t.TempDir()) // a directory, not a binary
	_, err := s3test.Binary()
	require.ErrorContains(t, err, "FLOWGATE_VERSITYGW")
}
