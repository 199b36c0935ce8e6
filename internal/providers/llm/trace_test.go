package llm

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// TestTracedFailureLeaksNothing: a provider whose error quotes the key and the prompt fails
// the call's span with neither on it (status, attributes, events).
func TestTracedFailureLeaksNothing(t *testing.T) {
	eachProvider(t, llmmock.Options{}, func(t *testing.T, pc providerCase, _ *llmmock.Server) {
		var key string
		for name, v := range pc.secret {
			if isCredentialField(name) {
				key = v
			}
		}
		require.NotEmpty(t, key)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error":{"type":"invalid_request_error","message":"key %s cannot answer: %s"}}`, key, userPrompt)
		}))
		t.Cleanup(srv.Close)
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		ctx, parent := tp.Tracer("test").Start(t.Context(), "node")

		_, err := Chat(ctx, pc.config(srv.URL), pc.secret, testMessages(), nil)
		parent.End()

		require.Error(t, err)
		require.Contains(t, err.Error(), userPrompt, "the provider's error did echo the prompt")
		spans := rec.Ended()
		require.Len(t, spans, 2, "the node's span and the call's")
		call := spans[0]
		require.Equal(t, "chat test-model", call.Name())
		require.Equal(t, codes.Error, call.Status().Code)
		require.Equal(t, "the provider answered 400", call.Status().Description)
		for _, s := range spans {
			text := s.Name() + s.Status().Description
			for _, a := range s.Attributes() {
				text += string(a.Key) + a.Value.Emit()
			}
			for _, e := range s.Events() {
				text += e.Name
				for _, a := range e.Attributes {
					text += a.Value.Emit()
				}
			}
			require.False(t, strings.Contains(text, key), "span %s carries the key", s.Name())
			require.False(t, strings.Contains(text, userPrompt), "span %s carries the prompt", s.Name())
		}
	})
}
