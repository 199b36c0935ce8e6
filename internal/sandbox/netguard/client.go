package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// MaxRedirects is how many redirects a Client follows; each hop is dialled,
// and therefore checked, like the first request.
const MaxRedirects = 10

// Client returns an HTTP client that enforces the policy on every
// connection it opens. base is cloned (nil means sensible defaults) and its
// Proxy, Dial, DialTLS and DialContext settings are replaced: an environment
// proxy or custom dialer would connect somewhere the policy never saw.
// timeout becomes http.Client.Timeout (0 means none).
//
// Errors returned by the client wrap ErrForbidden; note that net/http wraps
// them in *url.Error, whose message contains the request URL (password
// redacted), so log with care.
func (p Policy) Client(base *http.Transport, timeout time.Duration) *http.Client {
	g, err := p.compile()
	var t *http.Transport
	if base != nil {
		t = base.Clone()
	} else {
		t = &http.Transport{
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.Proxy = nil
	// With DialTLSContext nil the deprecated DialTLS would be used if set,
	// bypassing the guarded DialContext; clear every legacy hook.
	t.Dial = nil
	t.DialTLS = nil
	t.DialTLSContext = nil
	if g != nil {
		t.DialContext = g.dialContext(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
	}
	return &http.Client{
		Transport:     &guardedTransport{next: t, configErr: err},
		Timeout:       timeout,
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect vets each redirect before it is followed. Besides the hop count and scheme it
// keeps the caller's credentials with the host they were meant for: net/http copies every
// header of the first request onto each redirect, and drops only Authorization and Cookie
// (and only when the host name changes, whatever the port), so a credential's custom header
// such as X-Api-Key would reach wherever a server redirects to. It also drops Referer, which
// net/http fills with the previous URL: search tools put API keys in that URL's query.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("netguard: stopped after %d redirects", MaxRedirects)
	}
	if err := checkScheme(req.URL.Scheme, req.URL.Hostname()); err != nil {
		return err
	}
	req.Header.Del("Referer")
	if leftFirstTarget(req, via) {
		for name := range req.Header {
			if !redirectSafeHeaders[name] {
				req.Header.Del(name)
			}
		}
	}
	return nil
}

// redirectSafeHeaders may follow a redirect to another host: they describe the request, never
// who sends it. Every other header the caller set (Authorization, Cookie, Proxy-Authorization,
// a credential's own header) was meant for the first host only.
var redirectSafeHeaders = map[string]bool{
	"Accept":           true,
	"Accept-Language":  true,
	"Content-Language": true,
	"Content-Type":     true,
	"User-Agent":       true,
}

// leftFirstTarget reports whether the redirect chain ending in req has, at any hop, left the
// target of the first request. It looks at every hop because net/http copies the first
// request's headers again on each one: a host that redirects back to the first one must not
// get to choose where the credentials go next.
func leftFirstTarget(req *http.Request, via []*http.Request) bool {
	first := via[0].URL
	for _, hop := range via[1:] {
		if !sameTarget(first, hop.URL) {
			return true
		}
	}
	return !sameTarget(first, req.URL)
}

// sameTarget reports whether to is the party from was addressed to: the same host and port,
// or the same host moving from http to https on default ports. A move from https to http is
// not: the headers would cross the network in clear.
func sameTarget(from, to *url.URL) bool {
	if !strings.EqualFold(from.Hostname(), to.Hostname()) {
		return false
	}
	fromScheme, toScheme := strings.ToLower(from.Scheme), strings.ToLower(to.Scheme)
	switch {
	case fromScheme == toScheme:
		return effectivePort(from) == effectivePort(to)
	case fromScheme == "http" && toScheme == "https":
		return from.Port() == "" && to.Port() == ""
	default:
		return false
	}
}

// effectivePort is u's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

func checkScheme(scheme, host string) error {
	switch strings.ToLower(scheme) {
	case "http", "https":
		return nil
	}
	return forbidden(host, netip.Addr{}, fmt.Sprintf("scheme %q is not allowed (only http and https)", scheme))
}

// guardedTransport refuses non-HTTP schemes with ErrForbidden (instead of
// net/http's generic error) and reports an invalid hand-built Policy.
type guardedTransport struct {
	next      *http.Transport
	configErr error
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.configErr != nil {
		closeBody(req)
		return nil, errors.Join(ErrForbidden, t.configErr)
	}
	if err := checkScheme(req.URL.Scheme, req.URL.Hostname()); err != nil {
		closeBody(req)
		return nil, err
	}
	return t.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (t *guardedTransport) CloseIdleConnections() { t.next.CloseIdleConnections() }

// closeBody honours the RoundTripper contract of closing the body on error.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
