package secrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// OverwriteSource names the key taken from KeySourceConfig.Overwrite, after
// the Flowise environment variable that normally supplies it.
const OverwriteSource = "FLOWISE_SECRETKEY_OVERWRITE"

// KeyFileName is the file Flowise keeps its passphrase in, inside SECRETKEY_PATH.
const KeyFileName = "encryption.key"

const (
	// generatedKeyBytes matches Flowise, which creates a key from 24 random
	// bytes; base64 turns them into a 32-character passphrase.
	generatedKeyBytes = 24
	// defaultKeyDir is used, under the home directory, when no SECRETKEY_PATH is configured.
	defaultKeyDir = ".flowgate"
)

// Key is the resolved passphrase plus where it came from.
//
// The passphrase cannot be read back from outside the package, and every way
// of printing a Key (fmt verbs, %#v, slog) shows only the source, so a Key can
// be logged or wrapped into errors without leaking the secret.
type Key struct {
	// passphrase is behind a pointer so that even when a Key sits in an
	// unexported field of some other struct, where fmt cannot call its
	// methods, printing that struct shows an address rather than the secret.
	// The price is that == compares identity, not passphrases.
	passphrase *string

	// Source says where the passphrase came from, e.g.
	// "FLOWISE_SECRETKEY_OVERWRITE" or "file /root/.flowgate/encryption.key",
	// so errors can name the key without revealing it.
	Source string
}

// NewKey wraps a passphrase obtained elsewhere: tests, and key sources that
// live outside this package.
func NewKey(passphrase, source string) Key {
	return Key{passphrase: &passphrase, Source: source}
}

// secret returns the passphrase, or "" for the zero Key.
func (k Key) secret() string {
	if k.passphrase == nil {
		return ""
	}
	return *k.passphrase
}

// String returns "key from <Source>"; it never includes the passphrase.
func (k Key) String() string {
	return "key from " + k.Source
}

// GoString keeps %#v from printing the struct fields and with them the passphrase.
func (k Key) GoString() string {
	return "secrets.Key{Source: " + strconv.Quote(k.Source) + "}"
}

// Format makes every fmt verb go through String or GoString. Stringer alone
// is not enough: fmt ignores it for verbs such as %d, and would then print the
// passphrase field.
func (k Key) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, k.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(k.String()))
	default:
		_, _ = io.WriteString(f, k.String())
	}
}

// LogValue makes slog record the same text as String, whatever the handler.
func (k Key) LogValue() slog.Value {
	return slog.StringValue(k.String())
}

// KeySourceConfig says where ResolveKey may find the passphrase.
type KeySourceConfig struct {
	// Overwrite is the value of FLOWISE_SECRETKEY_OVERWRITE. When non-empty it
	// is the passphrase, verbatim, and nothing else is consulted.
	Overwrite string
	// Path is the SECRETKEY_PATH directory holding encryption.key. Empty means
	// ~/.flowgate.
	Path string
	// StorageType is SECRETKEY_STORAGE_TYPE: StorageTypeLocal (or empty) for
	// the key file in Path, StorageTypeAWS for the AWS Secrets Manager secret
	// described by AWS. The overwrite wins over either.
	StorageType string
	// AWS locates the secret when StorageType is StorageTypeAWS.
	AWS AWSKeyConfig
	// ReadOnly makes every source only read: a missing key file or AWS secret is an error
	// instead of being created. It is for a key another installation owns (a Flowise
	// deployment being moved in) and for runs that must write nothing (an import's dry run).
	ReadOnly bool
}

// keySource looks for the passphrase in one place. It reports ok=false when
// it is not configured, so that ResolveKey moves on to the next source.
type keySource func(ctx context.Context, cfg KeySourceConfig) (k Key, ok bool, err error)

// keySources lists the places ResolveKey consults, in Flowise's precedence:
// the overwrite, then AWS Secrets Manager when StorageType is "aws", then the
// key file. The AWS and file sources always yield a key when they apply (each
// creates one when missing), so the file must stay last.
var keySources = []keySource{withoutContext(overwriteKey), awsKey, withoutContext(fileKey)}

// withoutContext adapts a source that does no I/O worth cancelling.
func withoutContext(source func(KeySourceConfig) (Key, bool, error)) keySource {
	return func(_ context.Context, cfg KeySourceConfig) (Key, bool, error) { return source(cfg) }
}

// ResolveKey finds the passphrase that encrypts credentials: the overwrite
// value if set; otherwise, with StorageType "aws", the AWS Secrets Manager
// secret; otherwise the key file in cfg.Path. A missing secret or key file is
// created with a fresh random key the first time, as Flowise does. ctx bounds
// the AWS calls, each of which also has its own deadline.
func ResolveKey(ctx context.Context, cfg KeySourceConfig) (Key, error) {
	for _, source := range keySources {
		k, ok, err := source(ctx, cfg)
		if err != nil {
			return Key{}, fmt.Errorf("resolving encryption key: %w", err)
		}
		if ok {
			return k, nil
		}
	}
	// Unreachable while fileKey is in keySources; kept so that a future
	// reordering fails loudly instead of returning a zero Key.
	return Key{}, errors.New("resolving encryption key: no key source is configured")
}

func overwriteKey(cfg KeySourceConfig) (Key, bool, error) {
	if cfg.Overwrite == "" {
		return Key{}, false, nil
	}
	return NewKey(cfg.Overwrite, OverwriteSource), true, nil
}

func fileKey(cfg KeySourceConfig) (Key, bool, error) {
	dir := cfg.Path
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Key{}, false, fmt.Errorf("locating the default key directory: %w", err)
		}
		dir = filepath.Join(home, defaultKeyDir)
	}
	path := filepath.Join(dir, KeyFileName)
	read := readOrCreateKeyFile
	if cfg.ReadOnly {
		read = readKeyFile
	}
	passphrase, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, false, fmt.Errorf("no key file at %s (SECRETKEY_PATH, or FLOWISE_SECRETKEY_OVERWRITE): %w", path, err)
	}
	if err != nil {
		return Key{}, false, err
	}
	return NewKey(passphrase, "file "+path), true, nil
}

// readOrCreateKeyFile returns the passphrase stored at path, first creating
// the file with a random passphrase if it does not exist yet.
func readOrCreateKeyFile(path string) (string, error) {
	passphrase, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return passphrase, err
	}
	if err := createKeyFile(path); err != nil {
		return "", err
	}
	// Read back rather than use what we generated: when several processes
	// start at once only one of them installs its key, and all must agree.
	return readKeyFile(path)
}

// readKeyFile reads a passphrase the way Flowise does: verbatim, trailing newline
// and all. A Flowise that read a hand-edited key file encrypted its credentials
// with that newline in the passphrase; trimming it would lose them.
func readKeyFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading key file: %w", err)
	}
	passphrase := string(data)
	if strings.TrimSpace(passphrase) == "" {
		// An empty passphrase is almost certainly a truncated file; refusing
		// it beats encrypting credentials with a key anyone can guess.
		return "", fmt.Errorf("key file %s is empty or blank", path)
	}
	return passphrase, nil
}

// createKeyFile installs a new random key at path unless one appears there
// first. The key is written in full to a temporary file and then hard-linked
// into place: a link never replaces an existing file, so a process that loses
// the race keeps the winner's key, and no reader can observe a half-written
// key, which a plain O_EXCL create-then-write would allow.
func createKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := fsperm.MkdirAll(dir); err != nil {
		return fmt.Errorf("creating key directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".tmp-*") // created with mode 0600 (fsperm.FileMode)
	if err != nil {
		return fmt.Errorf("creating key file: %w", err)
	}
	// Once linked, the key lives on under path; the temporary name always goes.
	defer os.Remove(tmp.Name())

	if err := writeAndClose(tmp, generatePassphrase()); err != nil {
		return fmt.Errorf("writing key file %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another process won the race; its key is the key
		}
		return fmt.Errorf("installing key file: %w", err)
	}
	syncDir(dir)
	return nil
}

// writeAndClose writes s to f, flushes it to disk and closes f. The flush
// matters: a key lost in a crash makes every stored credential unreadable.
func writeAndClose(f *os.File, s string) error {
	_, err := f.WriteString(s)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a new directory entry durable. It is best effort: some file
// systems cannot sync directories, and the key is already safely written.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// generatePassphrase returns a passphrase in the format Flowise generates:
// 24 random bytes, standard base64, 32 characters.
func generatePassphrase() string {
	raw := make([]byte, generatedKeyBytes)
	// crypto/rand.Read never returns an error; it aborts the program instead.
	_, _ = rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw)
}
