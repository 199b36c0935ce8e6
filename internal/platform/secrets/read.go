package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// ReadKey finds the passphrase in the same places as ResolveKey, in the same order, but only
// reads: a missing key file or AWS secret is an error, never created. It is for reading a key
// that another installation owns, such as a Flowise deployment being moved to Flowgate, whose
// key must be found exactly where that installation keeps it.
func ReadKey(ctx context.Context, cfg KeySourceConfig) (Key, error) {
	if k, ok, _ := overwriteKey(cfg); ok {
		return k, nil
	}
	switch cfg.StorageType {
	case "", StorageTypeLocal:
	case StorageTypeAWS:
		c := cfg.AWS.withDefaults()
		client, err := newSecretsManagerClient(ctx, c)
		if err != nil {
			return Key{}, fmt.Errorf("reading key from %s: %w", c.source(), err)
		}
		passphrase, err := getAWSSecret(ctx, client, c.Name)
		if err != nil {
			return Key{}, fmt.Errorf("reading key from %s: %w", c.source(), err)
		}
		return NewKey(passphrase, c.source()), nil
	default:
		return Key{}, fmt.Errorf("unknown key storage type %q: want %q or %q", cfg.StorageType, StorageTypeLocal, StorageTypeAWS)
	}
	if cfg.Path == "" {
		return Key{}, errors.New("reading key file: no key directory given")
	}
	path := filepath.Join(cfg.Path, KeyFileName)
	passphrase, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, fmt.Errorf("no key file at %s (set SECRETKEY_PATH or FLOWISE_SECRETKEY_OVERWRITE as the deployment had them): %w", path, err)
	}
	if err != nil {
		return Key{}, err
	}
	return NewKey(passphrase, "file "+path), nil
}
