package storage

import (
	"context"
	"io"
)

// ctxReader stops a copy once ctx is done, so a slow or endless body cannot outlive the
// caller's deadline.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
