package telemetry

import (
	"fmt"
	"strings"
)

// Metric providers (METRICS_PROVIDER, as Flowise names them).
const (
	Prometheus    = "prometheus"
	OpenTelemetry = "open_telemetry"
)

// Config is what the environment asks of telemetry. Metrics keep Flowise's variables; traces
// read OpenTelemetry's standard ones (Flowise has none).
type Config struct {
	// Metrics is ENABLE_METRICS=true.
	Metrics bool
	// Provider is METRICS_PROVIDER: prometheus (the default: GET /api/v1/metrics) or
	// open_telemetry (pushed through OTLP).
	Provider string
	// ServiceName is METRICS_SERVICE_NAME (default FlowiseAI, as Flowise): the app label of
	// every Prometheus series, and the service.name of OTLP metrics.
	ServiceName string
	// MetricEndpoint is where open_telemetry sends metrics: METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT,
	// else OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT.
	MetricEndpoint string
	// MetricProtocol is METRICS_OPEN_TELEMETRY_PROTOCOL: http (Flowise's default) or proto
	// (both OTLP over HTTP with protobuf bodies), or grpc; else OTEL_EXPORTER_OTLP_METRICS_PROTOCOL
	// or OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf or grpc).
	MetricProtocol string
	// Debug is METRICS_OPEN_TELEMETRY_DEBUG=true: OpenTelemetry's own diagnostics are logged.
	Debug bool
	// Runtime is METRICS_INCLUDE_NODE_METRICS (default true): the Go runtime's and the
	// process's own series (goroutines, memory, CPU), Flowise's Node.js metrics' counterpart.
	Runtime bool

	// TraceEndpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as given) or
	// OTEL_EXPORTER_OTLP_ENDPOINT (/v1/traces appended for HTTP); empty turns tracing off.
	TraceEndpoint string
	// TraceProtocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL:
	// http/protobuf (the specification's default) or grpc.
	TraceProtocol string
	// TraceServiceName is OTEL_SERVICE_NAME (default flowgate).
	TraceServiceName string
	// CaptureContent is FLOWGATE_OTEL_CAPTURE_CONTENT=true: provider-call spans carry the
	// messages sent and the answer. Off by default: prompts hold users' data.
	CaptureContent bool
}

// Tracing reports whether spans are exported.
func (c Config) Tracing() bool { return c.TraceEndpoint != "" }

// ConfigFromEnv reads the telemetry settings from getenv (os.Getenv in production).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return v
			}
		}
		return ""
	}
	c := Config{
		Metrics:          get("ENABLE_METRICS") == "true",
		Provider:         strings.ToLower(get("METRICS_PROVIDER")),
		ServiceName:      get("METRICS_SERVICE_NAME"),
		MetricEndpoint:   get("METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
		MetricProtocol:   strings.ToLower(get("METRICS_OPEN_TELEMETRY_PROTOCOL")),
		Debug:            get("METRICS_OPEN_TELEMETRY_DEBUG") == "true",
		Runtime:          get("METRICS_INCLUDE_NODE_METRICS") != "false",
		TraceEndpoint:    get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		TraceProtocol:    strings.ToLower(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")),
		TraceServiceName: get("OTEL_SERVICE_NAME"),
		CaptureContent:   get("FLOWGATE_OTEL_CAPTURE_CONTENT") == "true",
	}
	if c.Provider == "" {
		c.Provider = Prometheus
	}
	if c.ServiceName == "" {
		c.ServiceName = "FlowiseAI"
	}
	if c.TraceServiceName == "" {
		c.TraceServiceName = "flowgate"
	}
	base := get("OTEL_EXPORTER_OTLP_ENDPOINT")
	if c.TraceEndpoint == "" && base != "" {
		c.TraceEndpoint = signalURL(base, c.TraceProtocol, "/v1/traces")
	}
	if c.MetricEndpoint == "" && base != "" {
		c.MetricEndpoint = signalURL(base, get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"), "/v1/metrics")
	}
	if c.MetricProtocol == "" {
		c.MetricProtocol = get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var err error
	if c.MetricProtocol, err = protocol("METRICS_OPEN_TELEMETRY_PROTOCOL", c.MetricProtocol, "http"); err != nil {
		return c, err
	}
	if c.TraceProtocol, err = protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", c.TraceProtocol, "http"); err != nil {
		return c, err
	}
	if !c.Metrics {
		return c, nil
	}
	switch c.Provider {
	case Prometheus:
	case OpenTelemetry:
		if c.MetricEndpoint == "" {
			return c, fmt.Errorf("METRICS_PROVIDER=open_telemetry needs METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT)")
		}
	default:
		return c, fmt.Errorf("METRICS_PROVIDER must be prometheus or open_telemetry, got %q", c.Provider)
	}
	return c, nil
}

// The OTLP transports.
const (
	protoGRPC = "grpc"
	protoHTTP = "http"
)

// protocol reads an OTLP protocol setting: Flowise's values (http, proto, grpc) and
// OpenTelemetry's (http/protobuf, http/json, grpc). Both HTTP forms are sent as protobuf.
func protocol(name, v, def string) (string, error) {
	switch v {
	case "":
		return def, nil
	case "grpc":
		return protoGRPC, nil
	case "http", "proto", "http/protobuf", "http/json":
		return protoHTTP, nil
	}
	return "", fmt.Errorf("%s must be grpc, http or http/protobuf, got %q", name, v)
}

// signalURL is a signal's endpoint derived from OTEL_EXPORTER_OTLP_ENDPOINT: over HTTP the
// signal's path is appended, as the OpenTelemetry specification says; gRPC takes the base.
func signalURL(base, proto, path string) string {
	if p, _ := protocol("", proto, protoHTTP); p == protoHTTP {
		return strings.TrimSuffix(base, "/") + path
	}
	return base
}
