package secrets

import "context"

// ReadKey is ResolveKey in read-only mode: the same places in the same order, but a missing
// key file or AWS secret is an error, never created. It reads a key that another installation
// owns, such as a Flowise deployment being moved to Flowgate.
func ReadKey(ctx context.Context, cfg KeySourceConfig) (Key, error) {
	cfg.ReadOnly = true
	return ResolveKey(ctx, cfg)
}
