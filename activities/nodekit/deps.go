// Package nodekit is what the code of every node kind uses, whatever its family: the
// dependencies activities run with, model calls that stream their tokens, credentials
// decrypted for one call, the guarded HTTP client, and the error types the workflows' retry
// policies understand.
package nodekit

import (
	"log/slog"
	"net/http"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
)

// Deps holds what node implementations need. Credentials are decrypted here, inside the
// activity that calls the provider, and never leave it.
type Deps struct {
	Store  *models.Store
	Cipher *secrets.Cipher
	Stream stream.Publisher
	// Aborts reach the calls a chatflow runs inside its workflow task (see KeepAlive); nil
	// leaves them to Temporal's cancellation.
	Aborts stream.AbortWatcher
	Logger *slog.Logger
	// Files is where uploads are; the API stores them, any worker reads them.
	Files storage.Store
	// HTTP is the client of nodes and tools that call out; it refuses private, loopback and
	// metadata addresses unless configured otherwise (netguard).
	HTTP *http.Client
	// Metrics records model calls and node attempts; nil when metrics are off.
	Metrics *telemetry.Metrics
	// CaptureContent lets spans carry prompts and answers (FLOWGATE_OTEL_CAPTURE_CONTENT).
	CaptureContent bool
}
