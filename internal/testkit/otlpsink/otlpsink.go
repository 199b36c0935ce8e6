// Package otlpsink is an in-process OTLP receiver for tests: a gRPC server that implements
// OpenTelemetry's TraceService and MetricsService, and the same over HTTP with protobuf bodies
// (POST /v1/traces, /v1/metrics), keeping what it receives, so a test can check the spans and
// metrics a Flowgate process exported.
package otlpsink

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Sink is a running receiver. Its methods are safe for concurrent use.
type Sink struct {
	// Endpoint is its gRPC address as OTEL_EXPORTER_OTLP_ENDPOINT takes it:
	// http://127.0.0.1:port.
	Endpoint string
	// HTTPEndpoint is its OTLP/HTTP address, to which /v1/traces or /v1/metrics is appended.
	HTTPEndpoint string

	mu      sync.Mutex
	spans   []*tracepb.Span
	metrics []*metricspb.Metric
}

// Start serves on a free loopback port until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlpsink: listen: %v", err)
	}
	s := &Sink{Endpoint: "http://" + l.Addr().String()}
	srv := grpc.NewServer()
	colltrace.RegisterTraceServiceServer(srv, traces{s: s})
	collmetrics.RegisterMetricsServiceServer(srv, metrics{s: s})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)

	web := httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(web.Close)
	s.HTTPEndpoint = web.URL
	return s
}

// maxBody bounds an OTLP/HTTP request's body.
const maxBody = 16 << 20

// serveHTTP takes OTLP/HTTP exports with protobuf bodies.
func (s *Sink) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	var resp proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		var req colltrace.ExportTraceServiceRequest
		if err = proto.Unmarshal(body, &req); err == nil {
			resp, err = traces{s: s}.Export(r.Context(), &req)
		}
	case "/v1/metrics":
		var req collmetrics.ExportMetricsServiceRequest
		if err = proto.Unmarshal(body, &req); err == nil {
			resp, err = metrics{s: s}.Export(r.Context(), &req)
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, err := proto.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// Spans are the spans received so far, in the order they arrived.
func (s *Sink) Spans() []*tracepb.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*tracepb.Span(nil), s.spans...)
}

// Metrics are the metrics received so far, one entry per metric per export.
func (s *Sink) Metrics() []*metricspb.Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*metricspb.Metric(nil), s.metrics...)
}

type traces struct {
	colltrace.UnimplementedTraceServiceServer
	s *Sink
}

func (t traces) Export(_ context.Context, req *colltrace.ExportTraceServiceRequest) (*colltrace.ExportTraceServiceResponse, error) {
	keep(t.s, &t.s.spans, req.GetResourceSpans(), (*tracepb.ResourceSpans).GetScopeSpans, (*tracepb.ScopeSpans).GetSpans)
	return &colltrace.ExportTraceServiceResponse{}, nil
}

type metrics struct {
	collmetrics.UnimplementedMetricsServiceServer
	s *Sink
}

func (m metrics) Export(_ context.Context, req *collmetrics.ExportMetricsServiceRequest) (*collmetrics.ExportMetricsServiceResponse, error) {
	keep(m.s, &m.s.metrics, req.GetResourceMetrics(), (*metricspb.ResourceMetrics).GetScopeMetrics, (*metricspb.ScopeMetrics).GetMetrics)
	return &collmetrics.ExportMetricsServiceResponse{}, nil
}

// keep appends to dst, under the sink's lock, the items of every scope of every resource of
// an export: OTLP nests spans and metrics alike.
func keep[R, S, I any](s *Sink, dst *[]I, resources []R, scopes func(R) []S, items func(S) []I) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range resources {
		for _, sc := range scopes(r) {
			*dst = append(*dst, items(sc)...)
		}
	}
}
