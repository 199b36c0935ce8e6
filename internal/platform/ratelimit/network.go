package ratelimit

import (
	"net/netip"
)

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one client. A /64 is the
// smallest network a provider hands a customer (one LAN), and every host on it may pick any
// address inside it (SLAAC privacy addresses rotate by design), so a limit counted per full
// IPv6 address is walked past by changing address between requests.
const DefaultIPv6Prefix = 64

// CountedAddress is the address a rate limit counts a client IP as: an IPv4 address as itself,
// an IPv6 address as its network of ipv6Prefix bits ("2001:db8:1:2::/64"), so that all the
// addresses one client can choose from share one count. IPv4-mapped IPv6 addresses
// ("::ffff:203.0.113.7") are IPv4 clients and count as the IPv4 address. ipv6Prefix outside
// 1..128 means DefaultIPv6Prefix. A value that is not an IP (a Unix socket peer) is returned
// unchanged.
func CountedAddress(ip string, ipv6Prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = normalize(a)
	if a.Is4() {
		return a.String()
	}
	if ipv6Prefix < 1 || ipv6Prefix > 128 {
		ipv6Prefix = DefaultIPv6Prefix
	}
	// Prefix fails only for a bit count outside the address's length, excluded above.
	p, _ := a.Prefix(ipv6Prefix)
	return p.String()
}
