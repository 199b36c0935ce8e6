package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Multipart sizing. Bodies are sent in parts read into one reusable buffer, so memory stays
// at one part per concurrent Put whatever the object size, and each request body is seekable
// (the SDK must hash it to sign over plain HTTP, and rewind it to retry).
const (
	s3PartSize     = 8 << 20 // also the single-request threshold
	s3MinPartSize  = 5 << 20 // S3 minimum for all but the last part
	s3MaxPartCount = 10000
)

var partBufs = sync.Pool{New: func() any { b := make([]byte, s3PartSize); return &b }}

// Put uploads the object. Bodies up to one part go in a single PutObject; larger or
// unknown-size bodies go through a multipart upload, aborted on any failure so no orphaned
// parts are left behind. When size >= 0 the body must have exactly that many bytes.
func (s *S3) Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error {
	if err := validateKey(key); err != nil {
		return fmt.Errorf("storage: s3 put: %w", err)
	}
	if contentType == "" {
		contentType = contentTypeFor(key)
	}
	if err := s.put(ctx, key, body, size, contentType); err != nil {
		return fmt.Errorf("storage: s3 put %q: %w", key, err)
	}
	return nil
}

func (s *S3) put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error {
	partSize := int64(s3PartSize)
	if size > partSize*s3MaxPartCount {
		partSize = (size + s3MaxPartCount - 1) / s3MaxPartCount
	}
	var buf []byte
	switch {
	case size >= 0 && size < partSize:
		buf = make([]byte, size) // small known body: no pooled 8 MiB buffer
	case partSize == s3PartSize:
		p := partBufs.Get().(*[]byte)
		defer partBufs.Put(p)
		buf = *p
	default:
		buf = make([]byte, partSize)
	}

	// bufio lets us Peek for EOF after a full first chunk; reads into buf bypass its buffer.
	r := bufio.NewReader(ctxReader{ctx: ctx, r: body})
	n, last, err := readChunk(r, buf)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if !last {
		if _, perr := r.Peek(1); errors.Is(perr, io.EOF) {
			last = true
		} else if perr != nil {
			return fmt.Errorf("read body: %w", perr)
		}
	}
	if last {
		if size >= 0 && int64(n) != size {
			return sizeMismatch(size, int64(n))
		}
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, ContentType: &contentType,
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		return err
	}
	if size >= 0 && int64(n) >= size {
		return sizeMismatch(size, size+1)
	}
	return s.putMultipart(ctx, key, r, buf, n, size, contentType)
}

// putMultipart uploads buf[:n] as part 1, then the rest of r, part by part.
func (s *S3) putMultipart(ctx context.Context, key string, r io.Reader, buf []byte, n int, size int64, contentType string) (err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, ContentType: &contentType,
	})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := created.UploadId
	defer func() {
		if err != nil {
			// Abort even when ctx is done, or the parts would be billed until a lifecycle
			// rule cleans them up; bounded so a dead server cannot hang the caller.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s3AbortTimeout)
			defer cancel()
			if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: &key, UploadId: uploadID,
			}); aerr != nil {
				err = errors.Join(err, fmt.Errorf("abort multipart upload: %w", aerr))
			}
		}
	}()

	var parts []types.CompletedPart
	var total int64
	for partNum := int32(1); n > 0; partNum++ {
		if partNum > s3MaxPartCount {
			return fmt.Errorf("body exceeds %d parts of %d bytes", s3MaxPartCount, len(buf))
		}
		total += int64(n)
		if size >= 0 && total > size {
			return sizeMismatch(size, total)
		}
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &key, UploadId: uploadID, PartNumber: aws.Int32(partNum),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return fmt.Errorf("upload part %d: %w", partNum, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(partNum)})
		if n, _, err = readChunk(r, buf); err != nil {
			return fmt.Errorf("read body: %w", err)
		}
	}
	if size >= 0 && total != size {
		return sizeMismatch(size, total)
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// readChunk fills buf as far as r allows; last reports that r hit EOF.
func readChunk(r io.Reader, buf []byte) (n int, last bool, err error) {
	n, err = io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return n, true, nil
	}
	return n, false, err
}
