package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestConfigFromEnv(t *testing.T) {
	c, err := ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.False(t, c.Metrics)
	require.False(t, c.Tracing(), "no endpoint: tracing off")
	require.Equal(t, Prometheus, c.Provider)
	require.Equal(t, "FlowiseAI", c.ServiceName)
	require.True(t, c.Runtime)

	c, err = ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}))
	require.NoError(t, err)
	require.Equal(t, "http://collector:4318/v1/traces", c.TraceEndpoint, "http/protobuf by default: the signal's path")
	require.Equal(t, protoHTTP, c.TraceProtocol)

	c, err = ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4317"}))
	require.NoError(t, err)
	require.Equal(t, "http://traces:4317", c.TraceEndpoint, "the signal's own endpoint wins")
	require.Equal(t, protoGRPC, c.TraceProtocol)

	c, err = ConfigFromEnv(env(map[string]string{"ENABLE_METRICS": "true", "METRICS_PROVIDER": "open_telemetry",
		"METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT": "http://collector:4318/v1/metrics", "METRICS_OPEN_TELEMETRY_PROTOCOL": "proto"}))
	require.NoError(t, err)
	require.Equal(t, protoHTTP, c.MetricProtocol)

	_, err = ConfigFromEnv(env(map[string]string{"ENABLE_METRICS": "true", "METRICS_PROVIDER": "open_telemetry"}))
	require.ErrorContains(t, err, "METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT")
	_, err = ConfigFromEnv(env(map[string]string{"ENABLE_METRICS": "true", "METRICS_PROVIDER": "statsd"}))
	require.ErrorContains(t, err, "METRICS_PROVIDER")
	_, err = ConfigFromEnv(env(map[string]string{"METRICS_OPEN_TELEMETRY_PROTOCOL": "udp"}))
	require.ErrorContains(t, err, "METRICS_OPEN_TELEMETRY_PROTOCOL")
}

func TestOffIsNil(t *testing.T) {
	tel, err := New(context.Background(), Config{}, "1.0.0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Nil(t, tel)
	require.Nil(t, tel.Recorder())
	require.Nil(t, tel.ScrapeHandler())
	require.Nil(t, tel.Tracer())
	// A nil recorder takes every call.
	tel.Recorder().Predicted(context.Background(), Prediction{ChatflowID: "f"}, true, time.Second)
	tel.Recorder().Subscribed(context.Background())()
}

// TestPrometheusNames: series keep Flowise's names (no unit or _total added), carry the app
// label, and the Prometheus text format is served.
func TestPrometheusNames(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{"ENABLE_METRICS": "true", "METRICS_SERVICE_NAME": "prod", "METRICS_INCLUDE_NODE_METRICS": "false"}))
	require.NoError(t, err)
	tel, err := New(context.Background(), c, "1.2.3", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	m := tel.Recorder()
	ctx := context.Background()
	m.Predicted(ctx, Prediction{ChatflowID: "f1"}, false, 2*time.Second)
	m.Count(ctx, ChatflowCreated, true)
	m.HTTPRequest(ctx, "GET", "/api/v1/ping", 200, 3*time.Millisecond)

	rec := httptest.NewRecorder()
	tel.ScrapeHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	require.Contains(t, body, `chatflow_prediction_external{app="prod",chatflowid="f1",status="failure",streaming="false"} 1`)
	require.Contains(t, body, `chatflow_created{app="prod",status="success"} 1`)
	require.Contains(t, body, `http_request_duration_ms_bucket{app="prod",code="200",method="GET",route="/api/v1/ping",le="5"} 1`)
	require.Contains(t, body, `flowgate_prediction_duration_seconds_count{app="prod",status="failure",streaming="false",type="chatflow"} 1`)
	require.Contains(t, body, `flowgate_version_info{app="prod",version="v1.2.3"} 1`)
	require.NotContains(t, body, "go_goroutines", "METRICS_INCLUDE_NODE_METRICS=false")
}

// TestTemporalHandlerTags: the Temporal SDK's series carry the tags they were recorded with,
// each tag set's handler made once.
func TestTemporalHandlerTags(t *testing.T) {
	c, err := ConfigFromEnv(env(map[string]string{"ENABLE_METRICS": "true", "METRICS_INCLUDE_NODE_METRICS": "false"}))
	require.NoError(t, err)
	tel, err := New(context.Background(), c, "1", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	a := tel.temporal.WithTags(map[string]string{"namespace": "default", "task_queue": "q"})
	require.Same(t, a, tel.temporal.WithTags(map[string]string{"task_queue": "q", "namespace": "default"}))
	b := tel.temporal.WithTags(map[string]string{"namespace": "default", "task_queue": "other"})
	require.NotSame(t, a, b)
	a.WithTags(map[string]string{"workflow_type": "prediction"}).Counter("temporal_request").Inc(2)
	b.Counter("temporal_request").Inc(1)

	rec := httptest.NewRecorder()
	tel.ScrapeHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	require.Contains(t, body, `temporal_request{app="FlowiseAI",namespace="default",task_queue="q",workflow_type="prediction"} 2`)
	require.Contains(t, body, `temporal_request{app="FlowiseAI",namespace="default",task_queue="other"} 1`)
}

func benchTelemetry(b *testing.B) *Telemetry {
	c, err := ConfigFromEnv(env(map[string]string{"ENABLE_METRICS": "true"}))
	require.NoError(b, err)
	tel, err := New(context.Background(), c, "1", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// BenchmarkTemporalMetric is one metric of the Temporal SDK as the SDK records it: a tagged
// handler asked for, then a counter.
//
//	go test ./internal/platform/telemetry/ -run '^$' -bench . -benchtime 20000x
func BenchmarkTemporalMetric(b *testing.B) {
	tel := benchTelemetry(b)
	b.ReportAllocs()
	for range b.N {
		tel.temporal.WithTags(map[string]string{"namespace": "default", "task_queue": "q", "workflow_type": "prediction"}).Counter("temporal_request").Inc(1)
	}
}

// BenchmarkPredictionSeries is what Flowgate records of one chatflow prediction of three nodes.
func BenchmarkPredictionSeries(b *testing.B) {
	m := benchTelemetry(b).Recorder()
	ctx := context.Background()
	b.ReportAllocs()
	for range b.N {
		done := m.Subscribed(ctx)
		m.HTTPRequest(ctx, "POST", "/api/v1/prediction/:id", 200, time.Millisecond)
		m.Predicted(ctx, Prediction{ChatflowID: "f"}, true, time.Millisecond)
		m.ModelCall(ctx, "chatOpenAI", "gpt-4o-mini", 10, 10, time.Millisecond, nil)
		for range 3 {
			m.NodeAttempt(ctx, "llmChain", false, time.Millisecond, nil, false)
		}
		done()
	}
}
