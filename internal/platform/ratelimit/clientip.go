package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the client address of r, normalized (no port, no zone, IPv4-mapped IPv6
// unmapped). Positions count from the right: 0 is the socket peer (r.RemoteAddr), 1 the
// rightmost X-Forwarded-For entry, and so on over all X-Forwarded-For headers in order.
//
// Hop count N: the answer is the leftmost valid address among positions 0..N. Normally
// that is position N, the address the outermost trusted proxy saw. Everything left of N
// was written by the client, so it is never read, and adding or forging entries there
// cannot change the answer. An invalid entry within 0..N (a proxy writing "unknown") or
// fewer than N entries (the request skipped a proxy, or a proxy does not append) gives the
// nearest valid address to its right, that is one written by a proxy closer to us. (No
// rule can protect a deployment where clients can reach Flowgate through fewer proxies
// than configured: such a client already writes the entries a proxy would. Configure
// the count of proxies every request passes.)
//
// Trusted list: walk from position 0 while the address is a trusted proxy; the first
// untrusted address is the client. An invalid entry stops the walk at the trusted proxy
// that wrote it. If every address is trusted, the leftmost is returned (as Express does).
//
// When no position holds a valid IP (a Unix socket peer and no usable header) the host
// part of RemoteAddr is returned as is, so such requests share one key.
func (res *IPResolver) ClientIP(r *http.Request) string {
	sock, sockOK := parseEntry(r.RemoteAddr)
	w := xffWalker{vals: r.Header.Values("X-Forwarded-For")}
	w.i = len(w.vals)

	if res.trusted != nil {
		if !sockOK {
			// An unparseable peer cannot be matched against the trust list, so it is the client.
			return rawHost(r.RemoteAddr)
		}
		cur := sock
		for res.isTrusted(cur) {
			entry, more := w.next()
			if !more {
				break
			}
			a, valid := parseEntry(entry)
			if !valid {
				break
			}
			cur = a
		}
		return cur.String()
	}

	best, ok := sock, sockOK
	for pos := 1; pos <= res.hops; pos++ {
		entry, more := w.next()
		if !more {
			break
		}
		if a, valid := parseEntry(entry); valid {
			best, ok = a, true
		}
	}
	if !ok {
		return rawHost(r.RemoteAddr)
	}
	return best.String()
}

// xffWalker yields X-Forwarded-For entries from the right without allocating. Empty
// entries ("a,,b", an empty header) are skipped: a proxy never appends an empty address,
// so they can only come from the client, left of everything a proxy wrote.
type xffWalker struct {
	vals []string
	i    int    // index of the next header value to read, counting down
	cur  string // unread part of vals[i]
	have bool
}

func (w *xffWalker) next() (string, bool) {
	for {
		if !w.have {
			if w.i == 0 {
				return "", false
			}
			w.i--
			w.cur, w.have = w.vals[w.i], true
		}
		var entry string
		if j := strings.LastIndexByte(w.cur, ','); j >= 0 {
			entry, w.cur = w.cur[j+1:], w.cur[:j]
		} else {
			entry, w.cur, w.have = w.cur, "", false
		}
		if entry = strings.TrimSpace(entry); entry != "" {
			return entry, true
		}
	}
}

// parseEntry reads "1.2.3.4", "1.2.3.4:80", "::1", "[::1]", "[::1]:80" and zoned forms.
// It picks the one parser that fits the shape, because a failed parse allocates an error
// and RemoteAddr always carries a port.
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	var a netip.Addr
	var err error
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		a, err = netip.ParseAddr(s[1 : len(s)-1])
		if err == nil && !a.Is6() {
			return netip.Addr{}, false
		}
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return normalize(a), true
}

// normalize makes one client one key: "::ffff:1.2.3.4" is 1.2.3.4, and zones are local
// interface names, not part of who the client is.
func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

func rawHost(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return strings.TrimSpace(remoteAddr)
}
