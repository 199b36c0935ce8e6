package netguard

import (
	"net/netip"
	"strings"
)

// blockedRange is a special-purpose range refused while enforcing, with
// the reason reported to the caller.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

func mustRanges(pairs ...string) []blockedRange {
	out := make([]blockedRange, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, blockedRange{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// blockedRanges covers Flowise's DEFAULT_DENY_LIST and the rest of the IANA
// special-purpose registries that can reach infrastructure instead of the
// public internet. IPv4-mapped addresses are unmapped before lookup, so they
// need no entry of their own.
var blockedRanges = mustRanges(
	"0.0.0.0/8", "unspecified or this-network address",
	"10.0.0.0/8", "private address",
	"100.64.0.0/10", "carrier-grade NAT address",
	"127.0.0.0/8", "loopback address",
	"169.254.0.0/16", "link-local address (cloud metadata)",
	"172.16.0.0/12", "private address",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.0.2.0/24", "documentation address",
	"192.88.99.0/24", "6to4 relay anycast address",
	"192.168.0.0/16", "private address",
	"198.18.0.0/15", "benchmarking address",
	"198.51.100.0/24", "documentation address",
	"203.0.113.0/24", "documentation address",
	"224.0.0.0/4", "multicast address",
	"240.0.0.0/4", "reserved or broadcast address",
	"::/96", "unspecified, loopback or IPv4-compatible address",
	"64:ff9b:1::/48", "local-use NAT64 address",
	"100::/64", "discard-only address",
	"2001::/32", "Teredo address",
	"2001:db8::/32", "documentation address",
	"fc00::/7", "unique-local (private) address",
	"fe80::/10", "link-local address",
	"fec0::/10", "site-local address",
	"ff00::/8", "multicast address",
)

// blockedNames are refused before any resolution. They resolve to blocked
// addresses in practice; naming them catches resolvers that disagree (split
// horizon, /etc/hosts overrides) and gives a clearer error.
var blockedNames = []string{
	"localhost",
	"ip6-localhost",
	"ip6-loopback",
	"metadata",
	"metadata.google.internal",
	"metadata.goog",
	"instance-data",
	"instance-data.ec2.internal",
}

func blockedName(host string) (string, bool) {
	if strings.HasSuffix(host, ".localhost") {
		return "localhost name", true // RFC 6761: always loopback
	}
	for _, n := range blockedNames {
		if host == n {
			return "internal host name", true
		}
	}
	return "", false
}

// blockedAddr reports why addr is refused while enforcing. Translation
// prefixes (NAT64, 6to4) carry an IPv4 address; that address is checked too
// because a gateway would deliver the packet to it.
func blockedAddr(addr netip.Addr) (string, bool) {
	addr = normaliseAddr(addr)
	for _, r := range blockedRanges {
		if r.prefix.Contains(addr) {
			return r.reason, true
		}
	}
	if v4, ok := embeddedIPv4(addr); ok {
		if reason, bad := blockedAddr(v4); bad {
			return "IPv6 translation of " + reason, true
		}
	}
	return "", false
}

var (
	nat64Prefix     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPrefix = netip.MustParsePrefix("2002::/16")
)

func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	if !addr.Is6() {
		return netip.Addr{}, false
	}
	b := addr.As16()
	switch {
	case nat64Prefix.Contains(addr):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFourPrefix.Contains(addr):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
