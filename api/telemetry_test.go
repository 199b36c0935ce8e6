package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/flowgate/flowgate/internal/platform/telemetry"
)

// metricsRecorder is Flowgate's Metrics on a manual reader, for reading back what was counted.
func metricsRecorder(t *testing.T) (*telemetry.Metrics, func() []metricdata.Metrics) {
	reader := sdkmetric.NewManualReader()
	m, err := telemetry.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test"), "1")
	require.NoError(t, err)
	return m, func() []metricdata.Metrics {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		return rm.ScopeMetrics[0].Metrics
	}
}

// sums are a counter's data points as value by attribute set.
func sums(all []metricdata.Metrics, name string) map[attribute.Distinct]int64 {
	out := map[attribute.Distinct]int64{}
	for _, m := range all {
		if m.Name == name {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				attrs := dp.Attributes
				out[attrs.Equivalent()] = dp.Value
			}
		}
	}
	return out
}

func set(kv ...attribute.KeyValue) attribute.Distinct {
	s := attribute.NewSet(kv...)
	return s.Equivalent()
}

// TestCountRequests: a handler's panic is counted as the 500 it became, and a made-up method
// is _OTHER.
func TestCountRequests(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	m, collect := metricsRecorder(t)
	r := gin.New()
	r.Use(countRequests(m), recoverer(slog.New(slog.NewTextHandler(io.Discard, nil))))
	r.GET("/boom", func(*gin.Context) { panic("boom") })
	r.NoRoute(func(c *gin.Context) { c.Status(http.StatusNotFound) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("FROB", "/x", nil))

	got := sums(collect(), "http_requests_total")
	require.Equal(t, int64(1), got[set(attribute.String("method", "GET"), attribute.String("path", "/boom"), attribute.String("status", "500"))], got)
	require.Equal(t, int64(1), got[set(attribute.String("method", "_OTHER"), attribute.String("path", "unmatched"), attribute.String("status", "404"))], got)
}

// TestTallyCountsOnce: an error before the run counts one failure; a resend attached to the
// first request's run counts nothing; a run's answer counts once however often it is reported.
func TestTallyCountsOnce(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	m, collect := metricsRecorder(t)
	p := &predictions{metrics: m}
	r := gin.New()
	r.POST("/refused", func(c *gin.Context) {
		defer p.beginPrediction(c, "f")()
		fail(c, http.StatusServiceUnavailable, "Temporal is unavailable")
	})
	r.POST("/resent", func(c *gin.Context) {
		defer p.beginPrediction(c, "f")()
		attached(c)
		tallyOf(c).finish(true)
	})
	r.POST("/answered", func(c *gin.Context) {
		defer p.beginPrediction(c, "f")()
		t := tallyOf(c)
		t.finish(true)
		t.finish(false)
		c.Status(http.StatusOK)
	})
	for _, path := range []string{"/refused", "/resent", "/answered"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", path, nil))
	}
	got := sums(collect(), "chatflow_prediction_external")
	failed := set(attribute.String("status", "failure"), attribute.String("chatflowid", "f"), attribute.Bool("streaming", false))
	succeeded := set(attribute.String("status", "success"), attribute.String("chatflowid", "f"), attribute.Bool("streaming", false))
	require.Equal(t, map[attribute.Distinct]int64{failed: 1, succeeded: 1}, got)
}

// TestStartSpan: a caller's traceparent is a link, not the parent (the route is open), and a
// 5xx answer fails the span.
func TestStartSpan(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	spans := tracetest.NewSpanRecorder()
	p := &predictions{tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("test")}
	r := gin.New()
	r.POST("/prediction/:id", func(c *gin.Context) {
		defer p.startSpan(c, c.Param("id"))()
		c.Status(http.StatusBadGateway)
	})
	req := httptest.NewRequest("POST", "/prediction/f", nil)
	const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
	req.Header.Set("traceparent", "00-"+caller+"-00f067aa0ba902b7-01")
	r.ServeHTTP(httptest.NewRecorder(), req)

	ended := spans.Ended()
	require.Len(t, ended, 1)
	s := ended[0]
	require.NotEqual(t, caller, s.SpanContext().TraceID().String(), "a new trace")
	require.False(t, s.Parent().IsValid(), "a root span")
	require.Len(t, s.Links(), 1)
	require.Equal(t, caller, s.Links()[0].SpanContext.TraceID().String())
	require.Equal(t, codes.Error, s.Status().Code)
}
