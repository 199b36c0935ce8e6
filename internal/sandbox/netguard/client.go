package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
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

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("netguard: stopped after %d redirects", MaxRedirects)
	}
	return checkScheme(req.URL.Scheme, req.URL.Hostname())
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
