package nodekit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowgate/flowgate/internal/sandbox/netguard"
)

// maxResponseBytes bounds what a node reads of an HTTP answer.
const maxResponseBytes = 10 << 20

// Send makes one HTTP request through the node client, which refuses private, loopback and
// metadata addresses (HTTP_SECURITY_CHECK, HTTP_DENY_LIST) also after redirects.
func (d *Deps) Send(ctx context.Context, method, target string, headers map[string]string, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, FlowError("invalid request %s %s: %v", method, target, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrForbidden) {
			var fe *netguard.ForbiddenError
			if errors.As(err, &fe) {
				return 0, nil, nil, FlowError("request to %s refused: %s", fe.Host, fe.Reason)
			}
			return 0, nil, nil, FlowError("request refused: %v", err)
		}
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, SafeURL(req.URL), transportError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read the answer of %s: %w", SafeURL(req.URL), err)
	}
	if len(b) > maxResponseBytes {
		return 0, nil, nil, FlowError("the answer of %s is over %d bytes", SafeURL(req.URL), maxResponseBytes)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// SafeURL names a URL in errors and records without credentials, query or fragment: query
// strings often carry API keys.
func SafeURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// transportError drops the full URL net/http puts in its errors, for the same reason.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fetch lets sandboxed JavaScript call out through the same guarded client.
func (d *Deps) fetch(ctx context.Context, method, target string, headers map[string]string, body string) (int, map[string]string, string, error) {
	status, h, b, err := d.Send(ctx, method, target, headers, body)
	if err != nil {
		return 0, nil, "", err
	}
	return status, map[string]string{"Content-Type": h.Get("Content-Type")}, string(b), nil
}
