package llm

import (
	"net/http"
	"time"
)

// httpClient is shared by every provider and call so connections to a
// provider are reused across activity executions; SDK clients are cheap to
// build per call as long as they use it. It has no overall Timeout because
// that would cut off long streams: deadlines come from the caller's context
// and Config.Timeout.
var httpClient = &http.Client{Transport: newTransport()}

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// A worker runs many activities against the same few hosts; the default
	// of 2 idle connections per host would churn TCP/TLS handshakes.
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}
