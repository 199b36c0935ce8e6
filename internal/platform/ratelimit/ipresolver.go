package ratelimit

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// IPResolver finds the client address of a request behind a known set of reverse proxies.
// It is immutable and safe for concurrent use.
type IPResolver struct {
	hops     int            // trusted proxies in front of us; used when trusted is nil
	trusted  []netip.Prefix // TRUST_PROXY address list; nil means hop-count mode
	warnings []string
}

// Express's named ranges, accepted in a TRUST_PROXY list as Flowise 3 (Express) does.
var namedRanges = map[string][]string{
	"loopback":    {"127.0.0.0/8", "::1/128"},
	"linklocal":   {"169.254.0.0/16", "fe80::/10"},
	"uniquelocal": {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
}

// NewIPResolver reads Flowise's proxy settings: NUMBER_OF_PROXIES (Flowise 2, a hop count)
// and TRUST_PROXY (Flowise 3: true/false, a hop count, or a comma-separated list of trusted
// proxy IPs, CIDRs and Express's names loopback/linklocal/uniquelocal).
//
// TRUST_PROXY wins when both are set, because it is the newer setting and can say more.
//
// TRUST_PROXY=true means "trust every hop" in Express, which takes the leftmost
// X-Forwarded-For entry: whatever the client wrote. Rate limits keyed on that are void, so
// it is mapped to one hop (a single load balancer, as in Flowgate's compose and Kubernetes
// deployments) and Warning() says so for the caller to log.
func NewIPResolver(numberOfProxies, trustProxy string) (*IPResolver, error) {
	numberOfProxies = strings.TrimSpace(numberOfProxies)
	trustProxy = strings.TrimSpace(trustProxy)
	r := &IPResolver{}
	if trustProxy == "" {
		if numberOfProxies == "" {
			return r, nil
		}
		n, err := parseHops(numberOfProxies)
		if err != nil {
			return nil, fmt.Errorf("NUMBER_OF_PROXIES: %w", err)
		}
		r.hops = n
		return r, nil
	}
	if numberOfProxies != "" {
		r.warnings = append(r.warnings, fmt.Sprintf("NUMBER_OF_PROXIES=%s is ignored because TRUST_PROXY is set", numberOfProxies))
	}
	switch lower := strings.ToLower(trustProxy); {
	case lower == "true":
		r.hops = 1
		r.warnings = append(r.warnings, "TRUST_PROXY=true would let clients choose their own IP; "+
			"treating it as one proxy. Set TRUST_PROXY to the number of proxies or their addresses")
	case lower == "false":
		r.hops = 0
	case isDigits(trustProxy):
		n, err := parseHops(trustProxy)
		if err != nil {
			return nil, fmt.Errorf("TRUST_PROXY: %w", err)
		}
		r.hops = n
	default:
		prefixes, err := parseTrustList(trustProxy)
		if err != nil {
			return nil, fmt.Errorf("TRUST_PROXY: %w", err)
		}
		r.trusted = prefixes
	}
	return r, nil
}

// Warning is a message for the caller to log at startup, or "" when the settings are sound.
func (r *IPResolver) Warning() string {
	return strings.Join(r.warnings, "; ")
}

func parseHops(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a number of proxies (0 or more), got %q", s)
	}
	return n, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func parseTrustList(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if named, ok := namedRanges[strings.ToLower(item)]; ok {
			for _, c := range named {
				out = append(out, netip.MustParsePrefix(c))
			}
			continue
		}
		p, err := parseTrustItem(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no proxy addresses in %q", list)
	}
	return out, nil
}

// parseTrustItem reads an IP or CIDR. IPv4-mapped IPv6 forms are unmapped because client
// addresses are unmapped before matching.
func parseTrustItem(item string) (netip.Prefix, error) {
	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR: %w", item, err)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(item)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR: %w", item, err)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (r *IPResolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
