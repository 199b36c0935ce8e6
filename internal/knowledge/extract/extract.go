package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"time"
)

// The limits every upload is read under; docs/security.md lists them.
const (
	// DefaultMaxInputBytes bounds how much of an upload is read. PDFs need
	// random access, so the input is held in memory; this keeps that bounded.
	DefaultMaxInputBytes int64 = 50 << 20
	// DefaultMaxTextBytes bounds the extracted text. The text ends up in a
	// JSON response and, later, in an LLM prompt, so more is never useful.
	// Extractors stop once it is reached; they never produce more first.
	DefaultMaxTextBytes = 10 << 20
	// DefaultTimeout bounds the wall time of a file parsed in a child
	// process (see isolate.go). A 50 MB text PDF takes a few seconds.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxMemoryBytes bounds the memory such a child may take beyond
	// what the executable needs to start.
	DefaultMaxMemoryBytes int64 = 512 << 20
	// maxNesting bounds the nesting of JSON and XML documents. Real ones
	// rarely pass 20 levels; far deeper ones are built to hurt parsers.
	maxNesting = 256
)

// TurnBudget bounds the time all the files of one request (a prediction's uploads, an
// attachments call) may take to read, however many there are; callers bound their context with
// it and ErrBudget as the cause. A variable for tests.
var TurnBudget = time.Minute

var (
	// ErrBudget is the cause of a context that ran out of TurnBudget.
	ErrBudget = fmt.Errorf("%w: the files of this request could not all be read in the time one request may take", ErrUnreadable)
	// ErrUnsupported is wrapped by errors for file types without a text
	// extractor; the message names the detected MIME type.
	ErrUnsupported = errors.New("extract: unsupported file type")
	// ErrTooLarge is wrapped when the input exceeds the extractor's limit.
	ErrTooLarge = errors.New("extract: file too large")
	// ErrUnreadable is wrapped when the content is at fault: it is malformed,
	// nests too deeply, or its parser ran out of time or memory. Retrying does
	// not help; the message names the file and the reason, and is fit to
	// show to whoever uploaded it.
	ErrUnreadable = errors.New("extract: file could not be read")
)

// Extractor holds the limits used by Text. The zero value uses the defaults.
type Extractor struct {
	MaxInputBytes int64 // <= 0 means DefaultMaxInputBytes
	MaxTextBytes  int   // <= 0 means DefaultMaxTextBytes
	// Timeout and MaxMemoryBytes bound the child process that parses PDFs,
	// and CSV, HTML and XML files over 256 KiB.
	Timeout        time.Duration // <= 0 means DefaultTimeout
	MaxMemoryBytes int64         // <= 0 means DefaultMaxMemoryBytes
}

func (e Extractor) withDefaults() Extractor {
	if e.MaxInputBytes <= 0 {
		e.MaxInputBytes = DefaultMaxInputBytes
	}
	if e.MaxTextBytes <= 0 {
		e.MaxTextBytes = DefaultMaxTextBytes
	}
	if e.Timeout <= 0 {
		e.Timeout = DefaultTimeout
	}
	if e.MaxMemoryBytes <= 0 {
		e.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	return e
}

// Text returns the text of a file using the default limits. mimeType may be
// empty or generic (application/octet-stream); then the name's extension and,
// failing that, content sniffing decide. size is the caller's idea of the
// length (negative if unknown); it only serves to reject oversized uploads
// early.
//
// Errors wrap ErrUnsupported, ErrTooLarge or ErrUnreadable when the file is
// at fault; anything else (the reader failed, ctx ended, no child process
// could be started) is not the file's doing.
func Text(ctx context.Context, name, mimeType string, r io.Reader, size int64) (string, error) {
	return Extractor{}.Text(ctx, name, mimeType, r, size)
}

// Text is the package-level Text with e's limits.
func (e Extractor) Text(ctx context.Context, name, mimeType string, r io.Reader, size int64) (string, error) {
	e = e.withDefaults()
	if size > e.MaxInputBytes {
		return "", fmt.Errorf("%w: %s is %d bytes, limit is %d", ErrTooLarge, name, size, e.MaxInputBytes)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	data, err := readBounded(r, size, e.MaxInputBytes)
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

	charset := declaredCharset(mimeType)
	if !k.inProcess(len(data)) {
		res, err := e.isolated(ctx, name, k, data, charset)
		return res.text, err
	}
	out := newTextBuf(e.MaxTextBytes)
	if err := k.extract(ctx, data, charset, out); err != nil && !errors.Is(err, errFull) {
		if ctx.Err() != nil {
			return "", fmt.Errorf("extract %s: %w", name, err)
		}
		return "", &unreadable{name: name, reason: err}
	}
	return out.String(), nil
}

// unreadable is the error for a file whose content is at fault.
type unreadable struct {
	name   string
	reason error
}

func (e *unreadable) Error() string {
	var limit *limitExceeded
	if errors.As(e.reason, &limit) {
		return fmt.Sprintf("file %s could not be read within %s", e.name, limit.limit)
	}
	return fmt.Sprintf("file %s could not be read: %v", e.name, e.reason)
}

func (e *unreadable) Unwrap() []error { return []error{ErrUnreadable, e.reason} }

// limitExceeded says which bound stopped a parser, as "30s" or "512 MiB of
// memory".
type limitExceeded struct{ limit string }

func (e *limitExceeded) Error() string { return "limit exceeded: " + e.limit }

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
