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

// setting is a variable's value and its name, for errors that name what to fix.
type setting struct{ name, value string }

// ConfigFromEnv reads the telemetry settings from getenv (os.Getenv in production).
//
// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn tracing off, as in every
// OpenTelemetry SDK; OTEL_METRICS_EXPORTER=none and OTEL_SDK_DISABLED=true turn off OTLP
// metrics (METRICS_PROVIDER=open_telemetry). The Prometheus endpoint is Flowise's setting
// (ENABLE_METRICS) and stays as it asks.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(names ...string) setting {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return setting{n, v}
			}
		}
		return setting{}
	}
	c := Config{
		Metrics:          get("ENABLE_METRICS").value == "true",
		Provider:         strings.ToLower(get("METRICS_PROVIDER").value),
		ServiceName:      get("METRICS_SERVICE_NAME").value,
		Debug:            get("METRICS_OPEN_TELEMETRY_DEBUG").value == "true",
		Runtime:          get("METRICS_INCLUDE_NODE_METRICS").value != "false",
		TraceServiceName: get("OTEL_SERVICE_NAME").value,
		CaptureContent:   get("FLOWGATE_OTEL_CAPTURE_CONTENT").value == "true",
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
	disabled := get("OTEL_SDK_DISABLED").value == "true"
	traces, err := exporterOn(get("OTEL_TRACES_EXPORTER"))
	if err != nil {
		return c, err
	}
	otlpMetrics, err := exporterOn(get("OTEL_METRICS_EXPORTER"))
	if err != nil {
		return c, err
	}
	base := get("OTEL_EXPORTER_OTLP_ENDPOINT")
	// The protocol first: it decides whether the base endpoint gets the signal's path.
	if c.TraceProtocol, err = protocol(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")); err != nil {
		return c, err
	}
	if traces && !disabled {
		if c.TraceEndpoint, err = endpoint(get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), base, c.TraceProtocol, "/v1/traces"); err != nil {
			return c, err
		}
	}
	if c.MetricProtocol, err = protocol(get("METRICS_OPEN_TELEMETRY_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")); err != nil {
		return c, err
	}
	if !c.Metrics {
		return c, nil
	}
	switch c.Provider {
	case Prometheus:
	case OpenTelemetry:
		if disabled || !otlpMetrics {
			c.Metrics = false
			return c, nil
		}
		if c.MetricEndpoint, err = endpoint(get("METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"), base, c.MetricProtocol, "/v1/metrics"); err != nil {
			return c, err
		}
		if c.MetricEndpoint == "" {
			return c, fmt.Errorf("METRICS_PROVIDER=open_telemetry needs METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT)")
		}
	default:
		return c, fmt.Errorf("METRICS_PROVIDER must be prometheus or open_telemetry, got %q", c.Provider)
	}
	return c, nil
}

// exporterOn reads OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER: otlp (the default) or none.
func exporterOn(s setting) (bool, error) {
	switch strings.ToLower(s.value) {
	case "", "otlp":
		return true, nil
	case "none":
		return false, nil
	}
	return false, fmt.Errorf("%s must be otlp or none (Flowgate exports through OTLP only), got %q", s.name, s.value)
}

// endpoint is a signal's endpoint: its own setting as given, else the base one
// (OTEL_EXPORTER_OTLP_ENDPOINT) with, over HTTP, the signal's path appended as the
// OpenTelemetry specification says. Over HTTP it must be a URL: a bare host:port says
// neither the scheme nor the path.
func endpoint(own, base setting, proto, path string) (string, error) {
	s := own
	if s.value == "" {
		if base.value == "" {
			return "", nil
		}
		s = base
		if proto == protoHTTP {
			s.value = strings.TrimSuffix(base.value, "/") + path
		}
	}
	if proto == protoHTTP && !strings.Contains(s.value, "://") {
		return "", fmt.Errorf("%s must be a URL for OTLP over HTTP (like http://collector:4318), got %q", s.name, s.value)
	}
	return s.value, nil
}

// The OTLP transports: ProtoGRPC, or protoHTTP (protobuf bodies over HTTP).
const (
	ProtoGRPC = "grpc"
	protoHTTP = "http"
)

// protocol reads an OTLP protocol setting: Flowise's values (http, proto, grpc) and
// OpenTelemetry's (http/protobuf, http/json, grpc). Both HTTP forms are sent as protobuf;
// unset is http/protobuf, the specification's default.
func protocol(s setting) (string, error) {
	switch strings.ToLower(s.value) {
	case "", "http", "proto", "http/protobuf", "http/json":
		return protoHTTP, nil
	case "grpc":
		return ProtoGRPC, nil
	}
	return "", fmt.Errorf("%s must be grpc, http or http/protobuf, got %q", s.name, s.value)
}
