package logs

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeferredAttrsWriteWhatTheHandlerWrites: records through deferred attributes are byte for
// byte those of the handler itself, whatever the order of With and WithGroup, for loggers that
// share their parent's attributes and for a logger that writes twice.
func TestDeferredAttrsWriteWhatTheHandlerWrites(t *testing.T) {
	noTime := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return ReplaceAttr(groups, a)
	}}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, noTime) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, noTime) },
	}
	for name, handler := range handlers {
		t.Run(name, func(t *testing.T) {
			write := func(log *slog.Logger) {
				base := log.With("component", "temporal-sdk", "apiKey", "k1")
				run := base.With("run", "r1").WithGroup("task").With("attempt", 2)
				run.Info("started", "node", "llmChain_0")
				run.Warn("retrying", "token", "t")
				base.WithGroup("empty").With().Error("sibling", slog.Group("g", "a", 1))
				base.With("x", "y").WithGroup("g1").WithGroup("g2").Debug("deep", "z", true)
				log.Info("bare")
			}
			var plain, deferred bytes.Buffer
			write(slog.New(handler(&plain)))
			write(slog.New(deferAttrs(handler(&deferred))))
			require.NotEmpty(t, plain.String())
			require.Equal(t, plain.String(), deferred.String())
		})
	}
}

// countingHandler counts the attribute sets rendered into it.
type countingHandler struct {
	slog.Handler
	rendered *int
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	*h.rendered++
	return countingHandler{Handler: h.Handler.WithAttrs(attrs), rendered: h.rendered}
}

// TestDeferredAttrsRenderOnlyForARecord: a logger given attributes renders them only when it
// writes a record, and only once.
func TestDeferredAttrsRenderOnlyForARecord(t *testing.T) {
	var out bytes.Buffer
	rendered := 0
	log := slog.New(deferAttrs(countingHandler{Handler: slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}), rendered: &rendered}))
	for range 100 {
		task := log.With("workflow", "w", "run", "r")
		task.Debug("polled")
		task.Info("started")
	}
	require.Zero(t, rendered)
	require.Empty(t, out.String())

	task := log.With("workflow", "w")
	task.Warn("slow")
	task.Warn("slower")
	require.Equal(t, 1, rendered)
	require.Equal(t, 2, bytes.Count(out.Bytes(), []byte(`"workflow":"w"`)))
	require.True(t, task.Handler().Enabled(context.Background(), slog.LevelError))
}
