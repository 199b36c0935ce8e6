package netguard

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrForbidden is matched (errors.Is) by every refusal of this package.
var ErrForbidden = errors.New("netguard: destination forbidden by HTTP security policy")

// ForbiddenError explains a refusal. Its message names the host and the
// reason only: URLs are never included because they may carry credentials
// in their user info or query string.
type ForbiddenError struct {
	Host   string     // host name or IP literal as requested
	Addr   netip.Addr // resolved address, when the refusal concerns one
	Reason string
}

func (e *ForbiddenError) Error() string {
	if e.Addr.IsValid() && e.Addr.String() != e.Host {
		return fmt.Sprintf("netguard: request to %q (%s) refused: %s", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("netguard: request to %q refused: %s", e.Host, e.Reason)
}

// Is makes errors.Is(err, ErrForbidden) hold.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

func forbidden(host string, addr netip.Addr, reason string) error {
	return &ForbiddenError{Host: host, Addr: addr, Reason: reason}
}
