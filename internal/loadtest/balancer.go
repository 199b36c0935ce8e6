package loadtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// Balancer is a round-robin reverse proxy on loopback, standing in for the nginx in front of
// the API replicas of a queue-mode deployment.
type Balancer struct {
	URL  string
	srv  *http.Server
	next atomic.Uint64
}

// StartBalancer proxies to backends in turn, one request each.
func StartBalancer(backends []string) (*Balancer, error) {
	if len(backends) == 0 {
		return nil, fmt.Errorf("a balancer needs backends")
	}
	transport := &http.Transport{
		Proxy: nil, MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("balancer backend %q: %w", b, err)
		}
		proxies[i] = &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u); r.SetXForwarded() },
			Transport: transport,
			// Pass SSE events on as they come, as nginx does with X-Accel-Buffering: no.
			FlushInterval: -1,
			// Answer like a proxy, without logging: the client counts the 502 and the report
			// shows why. A client that went away (Ctrl-C) needs no answer at all.
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if r.Context().Err() == nil {
					http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
				}
			},
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("balancer: listen: %w", err)
	}
	b := &Balancer{URL: "http://" + ln.Addr().String()}
	b.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxies[(b.next.Add(1)-1)%uint64(len(proxies))].ServeHTTP(w, r)
		}),
	}
	go func() { _ = b.srv.Serve(ln) }() // returns on Close
	return b, nil
}

// Close stops the balancer and drops its connections.
func (b *Balancer) Close() error { return b.srv.Close() }
