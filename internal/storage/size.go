package storage

import (
	"errors"
	"fmt"
)

// errBodySize reports a body whose length differs from the size passed to Put; storing it
// anyway would hide a truncated upload.
var errBodySize = errors.New("body size mismatch")

// sizeMismatch describes a body of got bytes (got > declared means "at least one more").
func sizeMismatch(declared, got int64) error {
	if got > declared {
		return fmt.Errorf("%w: declared %d bytes, body is longer", errBodySize, declared)
	}
	return fmt.Errorf("%w: declared %d bytes, body has %d", errBodySize, declared, got)
}
