package telemetry

import (
	"testing"

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
	require.Equal(t, ProtoGRPC, c.TraceProtocol)

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
	_, err = ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"}))
	require.ErrorContains(t, err, "OTEL_EXPORTER_OTLP_PROTOCOL", "the variable that was set")
}

// TestConfigOTelSwitches: the SDK's standard switches, the metric protocol deciding the
// metric path, and HTTP endpoints that must be URLs.
func TestConfigOTelSwitches(t *testing.T) {
	base := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "ENABLE_METRICS": "true", "METRICS_PROVIDER": "open_telemetry"}
	with := func(more map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	c, err := ConfigFromEnv(env(with(map[string]string{"OTEL_SDK_DISABLED": "true"})))
	require.NoError(t, err)
	require.False(t, c.Tracing())
	require.False(t, c.Metrics)
	c, err = ConfigFromEnv(env(with(map[string]string{"OTEL_TRACES_EXPORTER": "none"})))
	require.NoError(t, err)
	require.False(t, c.Tracing())
	require.True(t, c.Metrics)
	c, err = ConfigFromEnv(env(with(map[string]string{"OTEL_METRICS_EXPORTER": "none"})))
	require.NoError(t, err)
	require.True(t, c.Tracing())
	require.False(t, c.Metrics)
	_, err = ConfigFromEnv(env(with(map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"})))
	require.ErrorContains(t, err, "OTEL_TRACES_EXPORTER")

	c, err = ConfigFromEnv(env(with(map[string]string{"METRICS_OPEN_TELEMETRY_PROTOCOL": "grpc"})))
	require.NoError(t, err)
	require.Equal(t, "http://collector:4318", c.MetricEndpoint, "gRPC: no signal path")
	require.Equal(t, "http://collector:4318/v1/traces", c.TraceEndpoint)

	_, err = ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4318"}))
	require.ErrorContains(t, err, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be a URL")
	c, err = ConfigFromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}))
	require.NoError(t, err, "a host:port is a gRPC endpoint")
	require.Equal(t, "collector:4317", c.TraceEndpoint)
}
