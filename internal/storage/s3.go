package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Client tuning. Every call is also bounded by its ctx; these only keep a caller that passes
// context.Background from hanging forever on a dead or silent server.
const (
	s3MaxAttempts    = 3
	s3MaxBackoff     = time.Second
	s3DialTimeout    = 5 * time.Second
	s3TLSTimeout     = 10 * time.Second
	s3HeaderTimeout  = 2 * time.Minute // generous: completing a large multipart upload is slow
	s3AbortTimeout   = 10 * time.Second
	s3ErrNoSuchKey   = "NoSuchKey"
	s3ErrNotFound    = "NotFound"
	s3DeleteMaxBatch = 1000 // DeleteObjects limit
)

// S3 stores objects in one bucket of AWS S3 or an S3-compatible server.
type S3 struct {
	client *s3.Client
	bucket string
}

// NewS3 builds the client. It does not contact the server (see Open); use Check for that.
func NewS3(ctx context.Context, cfg Config) (*S3, error) {
	if err := validateS3(cfg); err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = s3DialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = s3TLSTimeout
			t.ResponseHeaderTimeout = s3HeaderTimeout
		})
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			// Few attempts and short backoff: a readiness probe or request handler would
			// rather fail fast than sit in the SDK's default 20 s backoff.
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = s3MaxAttempts
				o.MaxBackoff = s3MaxBackoff
			})
		}),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage: load aws config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.ForcePathStyle
		// Only send and verify checksums where the API requires them (DeleteObjects). The
		// SDK's newer "when supported" default breaks on several S3-compatible servers and
		// mixes badly with multipart uploads created without a checksum algorithm.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &S3{client: client, bucket: strings.TrimSpace(cfg.Bucket)}, nil
}

// Bucket returns the bucket the store writes to.
func (s *S3) Bucket() string { return s.bucket }

// Get opens the object. The body stays tied to ctx: cancelling it aborts the download.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := validateKey(key); err != nil {
		return nil, Object{}, fmt.Errorf("storage: s3 get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if isS3NotFound(err) {
			return nil, Object{}, fmt.Errorf("storage: s3 get %q: %w", key, ErrNotFound)
		}
		return nil, Object{}, fmt.Errorf("storage: s3 get %q: %w", key, err)
	}
	obj := Object{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType)}
	if out.ContentLength == nil {
		obj.Size = -1
	}
	if obj.ContentType == "" {
		obj.ContentType = contentTypeFor(key)
	}
	return out.Body, obj, nil
}

// Check asks for the bucket, proving the endpoint answers, the credentials work and the
// bucket exists.
func (s *S3) Check(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return fmt.Errorf("storage: s3 check bucket %q: %w", s.bucket, err)
	}
	return nil
}

// isS3NotFound matches a missing key, but not a missing bucket: that is a configuration
// problem callers must see.
func isS3NotFound(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case s3ErrNoSuchKey, s3ErrNotFound:
			return true
		}
	}
	return false
}
