package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// rule is one parsed allow/deny entry: either an IP prefix or a host name,
// optionally restricted to one port.
type rule struct {
	prefix netip.Prefix // valid for IP and CIDR entries
	host   string       // lower-case host name for name entries
	suffix bool         // host matches itself and every subdomain
	port   uint16       // 0 means any port
}

// parseList splits a comma-separated setting into normalised entries,
// rejecting the first invalid one so that a typo in a deny list is loud
// instead of silently allowing traffic.
func parseList(raw string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(raw, ",") {
		entry := strings.TrimSpace(part)
		if entry == "" {
			continue
		}
		if _, err := parseRule(entry); err != nil {
			return nil, err
		}
		out = append(out, entry)
	}
	return out, nil
}

func parseRules(entries []string) ([]rule, error) {
	rules := make([]rule, 0, len(entries))
	for _, e := range entries {
		r, err := parseRule(e)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseRule accepts "10.0.0.0/8", "::1", "[::1]:8080", "127.0.0.1:8080",
// "api.internal", "api.internal:8443", "*.corp" and ".corp".
func parseRule(entry string) (rule, error) {
	s := strings.ToLower(strings.TrimSpace(entry))
	if s == "" {
		return rule{}, fmt.Errorf("netguard: empty list entry")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return rule{}, fmt.Errorf("netguard: invalid CIDR entry %q: %w", entry, err)
		}
		return rule{prefix: normalisePrefix(p)}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = normaliseAddr(a)
		return rule{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	host, port := s, uint16(0)
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return rule{}, fmt.Errorf("netguard: invalid entry %q: %w", entry, err)
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return rule{}, fmt.Errorf("netguard: invalid port in entry %q", entry)
		}
		host, port = h, uint16(n)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = normaliseAddr(a)
		return rule{prefix: netip.PrefixFrom(a, a.BitLen()), port: port}, nil
	}
	return parseHostRule(entry, host, port)
}

func parseHostRule(entry, host string, port uint16) (rule, error) {
	suffix := false
	switch {
	case strings.HasPrefix(host, "*."):
		host, suffix = host[2:], true
	case strings.HasPrefix(host, "."):
		host, suffix = host[1:], true
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" || !validHostName(host) {
		return rule{}, fmt.Errorf("netguard: invalid host entry %q", entry)
	}
	if numericLastLabel(host) {
		// "2130706433" would look like a name here but means an IP to some
		// resolvers; refusing it keeps the lists unambiguous.
		return rule{}, fmt.Errorf("netguard: entry %q is not a canonical IP address", entry)
	}
	return rule{host: host, suffix: suffix, port: port}, nil
}

func validHostName(h string) bool {
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return !strings.Contains(h, "..")
}

// matchName reports whether a host-name rule covers host.
func (r rule) matchName(host string, port uint16) bool {
	if r.host == "" || (r.port != 0 && r.port != port) {
		return false
	}
	return host == r.host || (r.suffix && strings.HasSuffix(host, "."+r.host))
}

// matchAddr reports whether an IP/CIDR rule covers addr.
func (r rule) matchAddr(addr netip.Addr, port uint16) bool {
	if !r.prefix.IsValid() || !addr.IsValid() || (r.port != 0 && r.port != port) {
		return false
	}
	return r.prefix.Contains(addr)
}

// normaliseAddr drops zones and unmaps IPv4-mapped IPv6 so that
// ::ffff:127.0.0.1 and 127.0.0.1 are the same thing everywhere.
func normaliseAddr(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}

// normalisePrefix turns ::ffff:10.0.0.0/104 into 10.0.0.0/8, like Flowise.
func normalisePrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return netip.PrefixFrom(a, p.Bits()).Masked()
}
