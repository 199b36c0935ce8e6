package netguard

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// normaliseHost lower-cases a host and strips IPv6 brackets and a trailing
// dot, so "LOCALHOST." and "localhost" meet the same rules.
func normaliseHost(host string) string {
	host = strings.ToLower(host)
	host = strings.TrimPrefix(host, "[")
	host = strings.TrimSuffix(host, "]")
	return strings.TrimSuffix(host, ".")
}

// resolve checks host and returns the addresses it may be dialled on. Every
// resolved address must pass: if any is refused the whole host is, like
// Flowise, because an attacker controlling DNS picks which one we would use.
func (g *guard) resolve(ctx context.Context, rawHost string, port uint16) ([]netip.Addr, bool, error) {
	host := normaliseHost(rawHost)
	if host == "" {
		return nil, false, forbidden(rawHost, netip.Addr{}, "empty host")
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if err := g.checkAddr(host, addr, port, false); err != nil {
			return nil, false, err
		}
		return []netip.Addr{addr}, false, nil
	}
	if numericLastLabel(host) {
		return nil, false, forbidden(host, netip.Addr{}, "non-canonical IPv4 address spelling")
	}
	nameAllowed, err := g.checkName(host, port)
	if err != nil {
		return nil, false, err
	}
	ips, err := g.resolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, false, fmt.Errorf("netguard: resolve %q: %w", host, err)
	}
	addrs := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok {
			continue
		}
		a = a.WithZone(ip.Zone)
		if err := g.checkAddr(host, a, port, nameAllowed); err != nil {
			return nil, false, err
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, false, fmt.Errorf("netguard: resolve %q: no addresses", host)
	}
	return addrs, nameAllowed, nil
}

// checkName applies the name rules and reports whether the name itself is
// allow-listed, which then vouches for whatever it resolves to.
func (g *guard) checkName(host string, port uint16) (bool, error) {
	for _, r := range g.deny {
		if r.matchName(host, port) {
			return false, forbidden(host, netip.Addr{}, "host is on the deny list")
		}
	}
	if !g.enforce {
		return false, nil
	}
	for _, r := range g.allow {
		if r.matchName(host, port) {
			return true, nil
		}
	}
	if reason, bad := blockedName(host); bad {
		return false, forbidden(host, netip.Addr{}, reason)
	}
	return false, nil
}

// checkAddr applies the address rules: deny list first (it always wins),
// then, when enforcing, the allow list and the built-in special ranges.
func (g *guard) checkAddr(host string, addr netip.Addr, port uint16, nameAllowed bool) error {
	a := normaliseAddr(addr)
	v4, hasV4 := embeddedIPv4(a)
	for _, r := range g.deny {
		if r.matchAddr(a, port) || (hasV4 && r.matchAddr(v4, port)) {
			return forbidden(host, a, "address is on the deny list")
		}
	}
	if !g.enforce || nameAllowed {
		return nil
	}
	for _, r := range g.allow {
		if r.matchAddr(a, port) {
			return nil
		}
	}
	if reason, bad := blockedAddr(a); bad {
		return forbidden(host, a, reason)
	}
	return nil
}
