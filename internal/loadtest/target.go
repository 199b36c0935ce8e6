package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// checkTarget refuses anything but an http(s) URL, and, unless allowRemote, any host that is
// not a loopback address. A host name counts as loopback only if every address it resolves to
// is one, so a name that also points elsewhere is refused.
func checkTarget(ctx context.Context, target string, allowRemote bool) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("target %q: want an http:// or https:// URL", target)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("target %q has no host", target)
	}
	if allowRemote {
		return nil
	}
	refuse := fmt.Errorf("target %q is not a loopback address; pass AllowRemote (-allow-remote) to load a remote server on purpose", target)
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return nil
		}
		return refuse
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("target %q: resolve host: %w", target, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return refuse
		}
	}
	return nil
}
