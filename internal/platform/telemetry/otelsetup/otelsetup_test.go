package otelsetup

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/platform/telemetry"
)

func TestOffIsNil(t *testing.T) {
	tel, err := New(context.Background(), telemetry.Config{}, "1.0.0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Nil(t, tel)
	require.Nil(t, tel.Recorder())
	require.Nil(t, tel.ScrapeHandler())
	require.Nil(t, tel.Tracer())
	// A nil recorder takes every call.
	tel.Recorder().Predicted(context.Background(), telemetry.Prediction{ChatflowID: "f"}, true, time.Second)
	tel.Recorder().Subscribed(context.Background())()
}

// TestPrometheusNames: series keep Flowise's names (no unit or _total added), carry the app
// label, and the Prometheus text format is served.
func TestPrometheusNames(t *testing.T) {
	tel := start(t, "1.2.3", map[string]string{"METRICS_SERVICE_NAME": "prod", "METRICS_INCLUDE_NODE_METRICS": "false"})
	m := tel.Recorder()
	ctx := context.Background()
	m.Predicted(ctx, telemetry.Prediction{ChatflowID: "f1"}, false, 2*time.Second)
	m.Count(ctx, telemetry.ChatflowCreated, true)
	m.HTTPRequest(ctx, "GET", "/api/v1/ping", 200, 3*time.Millisecond)

	rec := httptest.NewRecorder()
	tel.ScrapeHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	require.Contains(t, body, `chatflow_prediction_external{app="prod",chatflowid="f1",status="failure",streaming="false"} 1`)
	require.Contains(t, body, `chatflow_created{app="prod",status="success"} 1`)
	require.Contains(t, body, `http_request_duration_ms_bucket{app="prod",code="200",method="GET",route="/api/v1/ping",le="5"} 1`)
	require.Contains(t, body, `flowgate_prediction_duration_seconds_count{app="prod",status="failure",streaming="false",type="chatflow"} 1`)
	require.Contains(t, body, `flowise_version_info{app="prod",version="v1.2.3"} 1`)
	require.NotContains(t, body, "go_goroutines", "METRICS_INCLUDE_NODE_METRICS=false")
}

// start builds the telemetry vars ask for (ENABLE_METRICS=true added), stopped at the end.
func start(tb testing.TB, version string, vars map[string]string) *Telemetry {
	tb.Helper()
	all := map[string]string{"ENABLE_METRICS": "true"}
	for k, v := range vars {
		all[k] = v
	}
	c, err := telemetry.ConfigFromEnv(func(name string) string { return all[name] })
	require.NoError(tb, err)
	tel, err := New(context.Background(), c, version, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, tel.Shutdown(context.Background())) })
	return tel
}

func scrapeBody(t *testing.T, tel *Telemetry) string {
	rec := httptest.NewRecorder()
	tel.ScrapeHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func startPrometheus(t *testing.T) *Telemetry {
	return start(t, "1", map[string]string{"METRICS_INCLUDE_NODE_METRICS": "false"})
}

// TestBoundedLabels: our histograms keep their own buckets (the seconds view is the Temporal
// SDK's only), a made-up HTTP method is _OTHER, and no model name is a label.
func TestBoundedLabels(t *testing.T) {
	tel := startPrometheus(t)
	m, ctx := tel.Recorder(), context.Background()
	m.Predicted(ctx, telemetry.Prediction{ChatflowID: "f"}, true, 200*time.Second)
	m.HTTPRequest(ctx, "GET", "/api/v1/ping", 200, time.Millisecond)
	m.HTTPRequest(ctx, "XYZZY-1", "unmatched", 404, time.Millisecond)
	m.ModelCall(ctx, "chatOpenAI", 3, 4, time.Second, nil)
	tel.temporal.Timer("temporal_request_latency").Record(time.Second)

	body := scrapeBody(t, tel)
	require.Contains(t, body, `flowgate_prediction_duration_seconds_bucket{app="FlowiseAI",status="success",streaming="false",type="chatflow",le="300"} 1`)
	require.Contains(t, body, `flowgate_llm_call_duration_seconds_bucket{app="FlowiseAI",provider="chatOpenAI",status="success",le="120"} 1`)
	require.Contains(t, body, `temporal_request_latency_bucket{app="FlowiseAI",le="30"} 1`, "the SDK's seconds buckets")
	require.NotContains(t, body, `temporal_request_latency_bucket{app="FlowiseAI",le="300"}`)
	require.Contains(t, body, `http_requests_total{app="FlowiseAI",method="_OTHER",path="unmatched",status="404"} 1`)
	require.Contains(t, body, `http_requests_total{app="FlowiseAI",method="GET",path="/api/v1/ping",status="200"} 1`)
	require.NotContains(t, body, "XYZZY")
	require.Contains(t, body, `flowgate_llm_tokens_total{app="FlowiseAI",provider="chatOpenAI",type="prompt"} 3`)
	require.NotContains(t, body, "model=")
}

// TestCardinalityLimit: however many flows, one instrument's series stop at the limit.
func TestCardinalityLimit(t *testing.T) {
	tel := startPrometheus(t)
	for i := range cardinalityLimit + 10 {
		tel.Recorder().RateLimited(context.Background(), "flow-"+strconv.Itoa(i))
	}
	body := scrapeBody(t, tel)
	require.Contains(t, body, `otel_metric_overflow="true"`)
	require.Equal(t, cardinalityLimit, strings.Count(body, "flowgate_rate_limit_refusals_total{"))
}

// TestTemporalHandlerTags: the Temporal SDK's series carry the tags they were recorded with,
// each tag set's handler made once.
func TestTemporalHandlerTags(t *testing.T) {
	tel := start(t, "1", map[string]string{"METRICS_INCLUDE_NODE_METRICS": "false"})
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

func benchTelemetry(b *testing.B) *Telemetry { return start(b, "1", nil) }

// BenchmarkTemporalMetric is one metric of the Temporal SDK as the SDK records it: a tagged
// handler asked for, then a counter.
//
//	go test ./internal/platform/telemetry/otelsetup/ -run '^$' -bench . -benchtime 20000x
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
		m.Predicted(ctx, telemetry.Prediction{ChatflowID: "f"}, true, time.Millisecond)
		m.ModelCall(ctx, "chatOpenAI", 10, 10, time.Millisecond, nil)
		for range 3 {
			m.NodeAttempt(ctx, "llmChain", false, time.Millisecond, nil, false)
		}
		done()
	}
}

// TestQuietTracer: the interceptor's spans say an attempt failed and the error's type, never
// its text (which may echo a prompt).
func TestQuietTracer(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tracer := quietTracer{sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("t")}
	err := temporal.NewApplicationError("provider said: my secret prompt", "ProviderError")
	_, span := tracer.Start(context.Background(), "RunActivity:node.llmChain")
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	span.End()

	s := spans.Ended()[0]
	require.Equal(t, codes.Error, s.Status().Code)
	require.NotContains(t, s.Status().Description, "prompt")
	require.Len(t, s.Events(), 1)
	require.Equal(t, []attribute.KeyValue{attribute.String("exception.type", "ProviderError")}, s.Events()[0].Attributes)
}
