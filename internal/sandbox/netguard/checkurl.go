package netguard

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// CheckURL validates raw before any request is built: the scheme must be
// http or https, the host must resolve, and every address must be allowed.
// It is an early, friendly check for node inputs; the dial-time check in
// Client remains the one that counts, since DNS can change in between.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, credentials included; keep only
		// the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("netguard: invalid URL: %w", err)
	}
	if err := checkScheme(u.Scheme, u.Hostname()); err != nil {
		return err
	}
	host := u.Hostname()
	if host == "" {
		return forbidden(host, netip.Addr{}, "URL has no host")
	}
	if !isASCII(host) {
		// Same conversion net/http applies before dialling, so that
		// full-width or other look-alike spellings meet the same rules.
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return fmt.Errorf("netguard: invalid host %q: %w", host, err)
		}
		host = ascii
	}
	port, err := urlPort(u)
	if err != nil {
		return err
	}
	g, err := p.compile()
	if err != nil {
		return errors.Join(ErrForbidden, err)
	}
	_, _, err = g.resolve(ctx, host, port)
	return err
}

func urlPort(u *url.URL) (uint16, error) {
	if s := u.Port(); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("netguard: invalid port %q", s)
		}
		return uint16(n), nil
	}
	if u.Scheme == "https" {
		return 443, nil
	}
	return 80, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
