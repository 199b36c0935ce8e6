package logs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"time"
)

// Uploader is the part of the storage layer log shipping needs;
// storage.Store satisfies it. Put must honour ctx: it is how the per-upload
// deadline and shutdown interrupt a stuck upload.
type Uploader interface {
	Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error
}

// Defaults for Options fields left zero.
const (
	DefaultPrefix          = "logs/server/"
	DefaultRotate          = time.Hour
	DefaultMaxBytes        = 64 << 20
	DefaultKeep            = 24 * 7 // a week of hourly segments
	DefaultUploadTimeout   = 30 * time.Second
	DefaultUploadAttempts  = 3
	DefaultRetryBackoff    = time.Second
	DefaultMaxPendingBytes = 1 << 30
)

// Options configures New. Zero values select the defaults above.
type Options struct {
	Level  slog.Level
	Format string    // "json" (default) or "text"
	Stdout io.Writer // default os.Stdout; io.Discard silences the console

	Dir      string   // local segment files (LOG_PATH); "" = none
	Uploader Uploader // S3 shipping; nil = none
	Prefix   string   // object key prefix, default "logs/server/"
	// Instance distinguishes replicas in object keys so they never
	// overwrite each other; default "<hostname>-<pid>".
	Instance string

	Rotate   time.Duration // close a segment after this long, default 1h
	MaxBytes int64         // ... or once it would exceed this size, default 64 MB
	Keep     int           // local segment files kept in Dir; default 168, < 0 = all

	UploadTimeout  time.Duration // deadline of one Put, default 30s
	UploadAttempts int           // Puts per segment per shipping round, default 3
	RetryBackoff   time.Duration // wait before the 2nd attempt, doubling; default 1s
	// MaxPendingBytes caps segments waiting for a successful upload; beyond
	// it the oldest are given up on (reported, and deleted when spooled).
	MaxPendingBytes int64

	// Now is the clock, for tests. With a custom clock the background
	// ticker that closes idle segments is off; rotation then happens on
	// writes and Flush only.
	Now func() time.Time
	// OnError receives shipping and file errors, from a dedicated goroutine.
	// It must not log through the logger New returns. Default: stderr.
	OnError func(error)
}

// withDefaults returns a copy with zero fields filled in.
func (o Options) withDefaults() (Options, error) {
	switch o.Format {
	case "":
		o.Format = "json"
	case "json", "text":
	default:
		return o, fmt.Errorf("logs: unknown format %q (want json or text)", o.Format)
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Instance == "" {
		o.Instance = defaultInstance()
	}
	o.Instance = unsafeKeyChars.ReplaceAllString(o.Instance, "_")
	if o.Rotate <= 0 {
		o.Rotate = DefaultRotate
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Keep == 0 {
		o.Keep = DefaultKeep
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = DefaultUploadTimeout
	}
	if o.UploadAttempts <= 0 {
		o.UploadAttempts = DefaultUploadAttempts
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.OnError == nil {
		o.OnError = func(err error) { fmt.Fprintln(os.Stderr, err) }
	}
	return o, nil
}

// unsafeKeyChars are replaced in the instance id so keys stay plain ASCII
// without separators that would add key path levels.
var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func defaultInstance() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}
