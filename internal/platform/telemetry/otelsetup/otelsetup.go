// Package otelsetup builds a process's telemetry from its settings (telemetry.Config): one
// OpenTelemetry MeterProvider, read by a Prometheus registry (GET /api/v1/metrics, a worker's
// /metrics) or pushed through OTLP, and one TracerProvider exporting spans through OTLP. The
// Temporal SDK's own metrics and its tracing interceptor use the same providers, so a
// prediction's trace runs from the API's span through the workflow to each node's activity
// and provider call. Only internal/app uses it: the exporters and the Temporal contrib stay
// out of the packages that record (they use telemetry, which needs only the OpenTelemetry API).
//
// Off costs nothing: with ENABLE_METRICS unset the recorder is nil (its methods return at
// once), and without an OTLP traces endpoint no span is started anywhere.
package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/flowgate/flowgate/internal/platform/telemetry"
)

// Telemetry is a process's metrics and traces. A nil *Telemetry is telemetry turned off.
type Telemetry struct {
	cfg      telemetry.Config
	metrics  *telemetry.Metrics // nil when metrics are off
	meters   *sdkmetric.MeterProvider
	scrape   http.Handler // the Prometheus registry's handler; nil unless provider prometheus
	tracers  *sdktrace.TracerProvider
	temporal client.MetricsHandler
	tracing  interceptor.Interceptor
}

// New starts what cfg turns on. version is Flowgate's, reported as service.version and in
// flowise_version_info.
func New(ctx context.Context, cfg telemetry.Config, version string, log *slog.Logger) (*Telemetry, error) {
	if !cfg.Metrics && !cfg.Tracing() {
		return nil, nil
	}
	// The SDK's own errors (failed exports, instruments asked for twice) go to the log rather
	// than to stderr; they never fail a request.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("opentelemetry", "error", err) }))
	if cfg.Debug {
		otel.SetLogger(logr.FromSlogHandler(log.Handler()))
	}
	t := &Telemetry{cfg: cfg}
	if cfg.Metrics {
		if err := t.startMetrics(ctx, version); err != nil {
			_ = t.Shutdown(ctx)
			return nil, err
		}
	}
	if cfg.Tracing() {
		if err := t.startTracing(ctx, version); err != nil {
			_ = t.Shutdown(ctx)
			return nil, err
		}
	}
	return t, nil
}

// newResource names the process: OTEL_RESOURCE_ATTRIBUTES, then the service's name and
// version from the settings.
func newResource(ctx context.Context, name, version string) (*resource.Resource, error) {
	r, err := resource.New(ctx, resource.WithFromEnv(),
		resource.WithAttributes(attribute.String("service.name", name), attribute.String("service.version", version)))
	if err != nil {
		return nil, fmt.Errorf("read OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return r, nil
}

// secondsBuckets bound the Temporal SDK's latencies, which it records in seconds; the SDK's
// default buckets are made for milliseconds.
var secondsBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// temporalScope is the instrumentation scope of the Temporal SDK's instruments.
const temporalScope = "temporal-sdk-go"

// cardinalityLimit caps the series of one instrument, a backstop behind the bounded labels:
// past it the SDK folds new series into one otel_metric_overflow="true" series.
const cardinalityLimit = 2000

func (t *Telemetry) startMetrics(ctx context.Context, version string) error {
	res, err := newResource(ctx, t.cfg.ServiceName, version)
	if err != nil {
		return err
	}
	opts := []sdkmetric.Option{
		sdkmetric.WithResource(res),
		sdkmetric.WithCardinalityLimit(cardinalityLimit),
		// Only the SDK's histograms: Flowgate's own name their buckets.
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s", Scope: instrumentation.Scope{Name: temporalScope}},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: secondsBuckets}})),
	}
	switch t.cfg.Provider {
	case telemetry.Prometheus:
		reg := prometheus.NewRegistry()
		// Every series carries app=METRICS_SERVICE_NAME, as Flowise's do.
		labelled := prometheus.WrapRegistererWith(prometheus.Labels{"app": t.cfg.ServiceName}, reg)
		if t.cfg.Runtime {
			labelled.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		}
		// Names stay as the instruments name them: Flowise's series (chatflow_created,
		// http_request_duration_ms) and the Temporal SDK's (temporal_request) carry no added
		// unit or _total suffix.
		exp, err := otelprom.New(otelprom.WithRegisterer(labelled), otelprom.WithoutUnits(),
			otelprom.WithoutCounterSuffixes(), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
		if err != nil {
			return fmt.Errorf("start the Prometheus exporter: %w", err)
		}
		opts = append(opts, sdkmetric.WithReader(exp))
		t.scrape = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	case telemetry.OpenTelemetry:
		exp, err := metricExporter(ctx, t.cfg.MetricProtocol, t.cfg.MetricEndpoint)
		if err != nil {
			return err
		}
		// Every 5 s, as Flowise exports; OTEL_METRIC_EXPORT_INTERVAL is not read then.
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(5*time.Second))))
	}
	// From here Shutdown (New calls it on failure) stops the exporter with the provider.
	t.meters = sdkmetric.NewMeterProvider(opts...)
	if t.metrics, err = telemetry.NewMetrics(t.meters.Meter("flowgate"), version); err != nil {
		return fmt.Errorf("create Flowgate's instruments: %w", err)
	}
	t.temporal = newCachedTags(temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                t.meters.Meter(temporalScope),
		UseMonotonicCounters: true,
		// An instrument the SDK asks for twice with another kind must not stop the process.
		OnError: func(err error) { otel.Handle(err) },
	}))
	return nil
}

// withEndpoint picks an exporter's option for endpoint: a URL says whether TLS is used; a
// bare host:port (gRPC only, see endpoint) leaves it to OTEL_EXPORTER_OTLP_INSECURE.
func withEndpoint[O any](endpoint string, url, hostPort func(string) O) O {
	if strings.Contains(endpoint, "://") {
		return url(endpoint)
	}
	return hostPort(endpoint)
}

func metricExporter(ctx context.Context, proto, endpoint string) (sdkmetric.Exporter, error) {
	var exp sdkmetric.Exporter
	var err error
	if proto == telemetry.ProtoGRPC {
		exp, err = otlpmetricgrpc.New(ctx, withEndpoint(endpoint, otlpmetricgrpc.WithEndpointURL, otlpmetricgrpc.WithEndpoint))
	} else {
		exp, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(endpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("start the OTLP metric exporter for %s: %w", endpoint, err)
	}
	return exp, nil
}

func traceExporter(ctx context.Context, proto, endpoint string) (sdktrace.SpanExporter, error) {
	var exp sdktrace.SpanExporter
	var err error
	if proto == telemetry.ProtoGRPC {
		exp, err = otlptracegrpc.New(ctx, withEndpoint(endpoint, otlptracegrpc.WithEndpointURL, otlptracegrpc.WithEndpoint))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("start the OTLP trace exporter for %s: %w", endpoint, err)
	}
	return exp, nil
}

// contentValueLimit caps an attribute's length when spans carry content (prompts, answers),
// unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT or OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT says.
const contentValueLimit = 8 << 10

func (t *Telemetry) startTracing(ctx context.Context, version string) error {
	res, err := newResource(ctx, t.cfg.TraceServiceName, version)
	if err != nil {
		return err
	}
	exp, err := traceExporter(ctx, t.cfg.TraceProtocol, t.cfg.TraceEndpoint)
	if err != nil {
		return err
	}
	limits := sdktrace.NewSpanLimits() // OTEL_SPAN_* and OTEL_ATTRIBUTE_* as set
	if t.cfg.CaptureContent && limits.AttributeValueLengthLimit < 0 {
		limits.AttributeValueLengthLimit = contentValueLimit
	}
	// Sampling follows OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (default: every trace).
	t.tracers = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithRawSpanLimits(limits))
	// Spans cross Temporal in its headers (W3C trace context and baggage), from the API's
	// start to the worker's workflow and activities.
	t.tracing, err = temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: quietTracer{t.tracers.Tracer(temporalScope)}})
	if err != nil {
		return fmt.Errorf("start the Temporal tracing interceptor: %w", err)
	}
	return nil
}

// ScrapeHandler serves the Prometheus text format; nil unless METRICS_PROVIDER is prometheus.
func (t *Telemetry) ScrapeHandler() http.Handler {
	if t == nil {
		return nil
	}
	return t.scrape
}

// Recorder is the process's Metrics, nil when they are off.
func (t *Telemetry) Recorder() *telemetry.Metrics {
	if t == nil {
		return nil
	}
	return t.metrics
}

// Tracer starts Flowgate's own spans; nil when tracing is off.
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil || t.tracers == nil {
		return nil
	}
	return t.tracers.Tracer("flowgate")
}

// CaptureContent reports whether spans may carry prompts and answers.
func (t *Telemetry) CaptureContent() bool { return t != nil && t.cfg.CaptureContent }

// TemporalOptions sets the Temporal client's metrics handler and tracing interceptor; a
// worker made from the client inherits both.
func (t *Telemetry) TemporalOptions(o *client.Options) {
	if t == nil {
		return
	}
	if t.temporal != nil {
		o.MetricsHandler = t.temporal
	}
	if t.tracing != nil {
		o.Interceptors = append(o.Interceptors, t.tracing)
	}
}

// Shutdown sends what is still buffered (the last spans, the last OTLP metrics) and stops.
// Both providers stop at once, each within ctx: a slow trace collector does not eat the
// metrics' time, nor the other way round.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	stop := func(i int, shutdown func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = shutdown(ctx)
		}()
	}
	if t.tracers != nil {
		stop(0, t.tracers.Shutdown)
	}
	if t.meters != nil {
		stop(1, t.meters.Shutdown)
	}
	wg.Wait()
	return errors.Join(errs...)
}
