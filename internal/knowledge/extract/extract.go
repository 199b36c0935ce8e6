package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
)

const (
	// DefaultMaxInputBytes bounds how much of an upload is read. PDFs need
	// random access, so the input is held in memory; this keeps that bounded.
	DefaultMaxInputBytes int64 = 50 << 20
	// DefaultMaxTextBytes bounds the extracted text. The text ends up in a
	// JSON response and, later, in an LLM prompt, so more is never useful.
	DefaultMaxTextBytes = 10 << 20
)

var (
	// ErrUnsupported is wrapped by errors for file types without a text
	// extractor; the message names the detected MIME type.
	ErrUnsupported = errors.New("extract: unsupported file type")
	// ErrTooLarge is wrapped when the input exceeds the extractor's limit.
	ErrTooLarge = errors.New("extract: file too large")
)

// Extractor holds the limits used by Text. The zero value uses the defaults.
type Extractor struct {
	MaxInputBytes int64 // <= 0 means DefaultMaxInputBytes
	MaxTextBytes  int   // <= 0 means DefaultMaxTextBytes
}

// Text returns the text of a file using the default limits. mimeType may be
// empty or generic (application/octet-stream); then the name's extension and,
// failing that, content sniffing decide. size is the caller's idea of the
// length (negative if unknown); it only serves to reject oversized uploads
// early.
func Text(ctx context.Context, name, mimeType string, r io.Reader, size int64) (string, error) {
	return Extractor{}.Text(ctx, name, mimeType, r, size)
}

// Text is the package-level Text with e's limits.
func (e Extractor) Text(ctx context.Context, name, mimeType string, r io.Reader, size int64) (string, error) {
	maxIn := e.MaxInputBytes
	if maxIn <= 0 {
		maxIn = DefaultMaxInputBytes
	}
	maxOut := e.MaxTextBytes
	if maxOut <= 0 {
		maxOut = DefaultMaxTextBytes
	}
	if size > maxIn {
		return "", fmt.Errorf("%w: %s is %d bytes, limit is %d", ErrTooLarge, name, size, maxIn)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	data, err := readBounded(r, size, maxIn)
	if err != nil {
		return "", fmt.Errorf("extract: read %s: %w", name, err)
	}
	head := data[:min(len(data), sniffLen)]
	mt := MimeType(name, mimeType, head)
	k := kindOf(mt)
	if k == kindUnsupported {
		return "", fmt.Errorf("%w: %s (%s)", ErrUnsupported, mt, name)
	}
	if len(data) == 0 {
		return "", nil // nothing to extract, whatever the format
	}

	out := newTextBuf(maxOut)
	if err := k.extract(ctx, data, declaredCharset(mimeType), out); err != nil && !errors.Is(err, errFull) {
		return "", fmt.Errorf("extract %s: %w", name, err)
	}
	return out.String(), nil
}

// readBounded reads at most limit bytes and fails if there is more, so a
// lying size cannot make us buffer an unbounded stream.
func readBounded(r io.Reader, size, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// declaredCharset returns the charset parameter of a Content-Type, if any.
func declaredCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return params["charset"]
}
