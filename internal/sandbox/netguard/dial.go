package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// dialContext resolves and checks the destination itself and connects only
// to checked IPs. Because the check happens here, on every new connection,
// it also covers redirect hops and DNS answers that change between an early
// CheckURL and the actual request (rebinding).
func (g *guard) dialContext(base *net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, portStr, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("netguard: dial %q: %w", address, err)
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("netguard: dial %q: invalid port", host)
		}
		addrs, nameAllowed, err := g.resolve(ctx, host, uint16(port))
		if err != nil {
			return nil, err
		}
		d := *base
		d.Control = g.control(normaliseHost(host), nameAllowed)
		var firstErr error
		for _, a := range addrs {
			// Unmap so ::ffff:a.b.c.d is dialled as the IPv4 address it is.
			conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, firstErr
	}
}

// control re-checks the exact socket address just before connect(2). It is
// redundant with dialContext by design: if a future code path ever dials
// without going through resolve, the socket is still refused.
func (g *guard) control(host string, nameAllowed bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return forbidden(host, netip.Addr{}, "unparseable socket address")
		}
		return g.checkAddr(host, ap.Addr(), ap.Port(), nameAllowed)
	}
}
