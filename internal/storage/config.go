package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Storage types accepted in Config.Type (Flowise's STORAGE_TYPE).
const (
	TypeLocal = "local"
	TypeS3    = "s3"
)

// DefaultRegion is used when Config.Region is empty, as Flowise does.
const DefaultRegion = "us-east-1"

// Config mirrors Flowise's storage settings: STORAGE_TYPE, BLOB_STORAGE_PATH,
// S3_STORAGE_BUCKET_NAME, S3_STORAGE_REGION, S3_STORAGE_ACCESS_KEY_ID,
// S3_STORAGE_SECRET_ACCESS_KEY, S3_ENDPOINT_URL and S3_FORCE_PATH_STYLE.
type Config struct {
	Type            string // "local" (default) or "s3"
	LocalPath       string // root directory for local storage; default ~/.flowise/storage
	Bucket          string
	Region          string // default us-east-1
	AccessKeyID     string // with SecretAccessKey: static credentials; both empty: default AWS chain
	SecretAccessKey string
	Endpoint        string // S3-compatible server URL; empty for AWS
	ForcePathStyle  bool
}

// Open validates cfg and opens the configured backend. It does not contact S3: a bucket that
// is briefly unreachable at boot should fail readiness (Check), not crash the process.
func Open(ctx context.Context, cfg Config) (Store, error) {
	switch t := strings.ToLower(strings.TrimSpace(cfg.Type)); t {
	case "", TypeLocal:
		root := cfg.LocalPath
		if root == "" {
			// Flowise's default when BLOB_STORAGE_PATH is unset, so existing installs keep
			// finding their files.
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("storage: no local path configured and no home directory: %w", err)
			}
			root = filepath.Join(home, ".flowise", "storage")
		}
		return NewLocal(root)
	case TypeS3:
		return NewS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("storage: unknown storage type %q (want %q or %q)", cfg.Type, TypeLocal, TypeS3)
	}
}

// validateS3 checks the settings NewS3 depends on.
func validateS3(cfg Config) error {
	if strings.TrimSpace(cfg.Bucket) == "" {
		return errors.New("storage: s3 storage needs a bucket name (S3_STORAGE_BUCKET_NAME)")
	}
	// Half a credential pair is almost certainly a deployment mistake; silently falling back
	// to the default chain would use some other identity.
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return errors.New("storage: s3 access key id and secret access key must be set together")
	}
	return nil
}
