package storage

import (
	"context"
	"errors"
	"io"
)

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ContentType string
}

// Store is implemented by Local and S3.
type Store interface {
	// Put writes the object, replacing any; size may be -1 when unknown.
	Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error
	// Get opens the object; errors.Is(err, ErrNotFound) when absent.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// DeletePrefix removes every object whose key starts with prefix (prefix ends in "/" as a
	// rule). Missing is not an error.
	DeletePrefix(ctx context.Context, prefix string) error
	// Check reports whether the store is reachable (for readiness); bounded by ctx.
	Check(ctx context.Context) error
}

var (
	// ErrNotFound is returned by Get when the object does not exist.
	ErrNotFound = errors.New("storage: object not found")
	// ErrInvalidKey is returned for keys, prefixes or name parts that could escape their prefix
	// or that the backends cannot store faithfully.
	ErrInvalidKey = errors.New("storage: invalid key")
)

// Compile-time proof that both backends satisfy Store.
var (
	_ Store = (*Local)(nil)
	_ Store = (*S3)(nil)
)
