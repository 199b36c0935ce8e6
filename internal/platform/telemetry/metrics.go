package telemetry

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics are Flowgate's series. Flowise's keep its names and its status label (success,
// failure); Flowgate's own start with flowgate_. Every method of a nil *Metrics returns at
// once: metrics off.
type Metrics struct {
	predictions map[predictionKind]metric.Int64Counter
	created     map[string]metric.Int64Counter

	predictionSeconds metric.Float64Histogram
	httpMillis        metric.Float64Histogram
	httpRequests      metric.Int64Counter
	tokens            metric.Int64Counter
	modelSeconds      metric.Float64Histogram
	nodeSeconds       metric.Float64Histogram
	nodeFailures      metric.Int64Counter
	nodeRetries       metric.Int64Counter
	rateLimited       metric.Int64Counter
	subscribers       metric.Int64UpDownCounter
}

type predictionKind struct{ agentflow, internal bool }

// Flowise's counters (its FLOWISE_METRIC_COUNTERS) that Flowgate has a cause for.
const (
	ChatflowCreated  = "chatflow_created"
	AgentflowCreated = "agentflow_created"
	ToolCreated      = "tool_created"
	VectorUpserted   = "vector_upserted"
)

// Outcomes, Flowise's FLOWISE_COUNTER_STATUS.
const (
	success = "success"
	failure = "failure"
)

func status(ok bool) string {
	if ok {
		return success
	}
	return failure
}

// predictionBuckets are a prediction's and a model call's latency bounds in seconds: from a
// cached quick node to a long agent run.
var predictionBuckets = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}

func newMetrics(m metric.Meter, version string) (*Metrics, error) {
	var errs []error
	counter := func(name, help string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(help))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, help, unit string, bounds []float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(help), metric.WithUnit(unit), metric.WithExplicitBucketBoundaries(bounds...))
		errs = append(errs, err)
		return h
	}
	x := &Metrics{
		predictions: map[predictionKind]metric.Int64Counter{
			{false, false}: counter("chatflow_prediction_external", "Total number of Chatflow Prediction External"),
			{false, true}:  counter("chatflow_prediction_internal", "Total number of Chatflow Prediction Internal"),
			{true, false}:  counter("agentflow_prediction_external", "Total number of Agentflow Prediction External"),
			{true, true}:   counter("agentflow_prediction_internal", "Total number of Agentflow Prediction Internal"),
		},
		created: map[string]metric.Int64Counter{
			ChatflowCreated:  counter(ChatflowCreated, "Total number of Chatflow Created"),
			AgentflowCreated: counter(AgentflowCreated, "Total number of Agentflow Created"),
			ToolCreated:      counter(ToolCreated, "Total number of Tool Created"),
			VectorUpserted:   counter(VectorUpserted, "Total number of Vectorstore Upsert"),
		},
		predictionSeconds: histogram("flowgate_prediction_duration_seconds", "Time from a prediction's start to its answer", "s", predictionBuckets),
		// Flowise's buckets, in milliseconds.
		httpMillis:   histogram("http_request_duration_ms", "Duration of HTTP requests in ms", "ms", []float64{1, 5, 15, 50, 100, 200, 300, 400, 500}),
		httpRequests: counter("http_requests_total", "Total number of HTTP requests"),
		tokens:       counter("flowgate_llm_tokens_total", "Tokens a chat model's provider reported, by type (prompt, completion)"),
		modelSeconds: histogram("flowgate_llm_call_duration_seconds", "Duration of chat model calls", "s", predictionBuckets),
		nodeSeconds:  histogram("flowgate_node_duration_seconds", "Duration of one attempt of a node's activity", "s", predictionBuckets),
		nodeFailures: counter("flowgate_node_failures_total", "Failed attempts of node activities; retryable=true ones are tried again"),
		nodeRetries:  counter("flowgate_node_retries_total", "Attempts of node activities after their first"),
		rateLimited:  counter("flowgate_rate_limit_refusals_total", "Requests refused by a chatflow's rate limit (429)"),
	}
	var err error
	x.subscribers, err = m.Int64UpDownCounter("flowgate_stream_subscribers", metric.WithDescription("Clients waiting on a run's events (JSON or SSE) in this process"))
	errs = append(errs, err)
	info, err := m.Int64Gauge("flowgate_version_info", metric.WithDescription("Flowgate version info."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	info.Record(context.Background(), 1, metric.WithAttributes(attribute.String("version", "v"+version)))
	return x, nil
}

// Prediction describes one prediction for its series.
type Prediction struct {
	ChatflowID string
	Agentflow  bool // an agentflow (Flowise's AGENTFLOW type), else a chatflow
	// Internal is a call from Flowise's own UI (x-request-from: internal), else an API client.
	Internal  bool
	Streaming bool
}

// Predicted counts a finished prediction in Flowise's counter of its kind
// (chatflow_prediction_external…), by status, flow and mode, and records its duration.
func (m *Metrics) Predicted(ctx context.Context, p Prediction, ok bool, took time.Duration) {
	if m == nil {
		return
	}
	attrs := metric.WithAttributes(attribute.String("status", status(ok)), attribute.String("chatflowid", p.ChatflowID),
		attribute.Bool("streaming", p.Streaming))
	m.predictions[predictionKind{p.Agentflow, p.Internal}].Add(ctx, 1, attrs)
	flowType := "chatflow"
	if p.Agentflow {
		flowType = "agentflow"
	}
	m.predictionSeconds.Record(ctx, took.Seconds(), metric.WithAttributes(attribute.String("status", status(ok)),
		attribute.String("type", flowType), attribute.Bool("streaming", p.Streaming)))
}

// Count counts one of Flowise's event counters (ChatflowCreated, VectorUpserted…) by outcome.
func (m *Metrics) Count(ctx context.Context, counter string, ok bool) {
	if m == nil {
		return
	}
	m.created[counter].Add(ctx, 1, metric.WithAttributes(attribute.String("status", status(ok))))
}

// HTTPRequest records one answered request as Flowise does: http_requests_total by method,
// path and status, and http_request_duration_ms by method, route and code. route is the
// matched pattern (never the raw path, whose ids would make a series per id).
func (m *Metrics) HTTPRequest(ctx context.Context, method, route string, code int, took time.Duration) {
	if m == nil {
		return
	}
	c := strconv.Itoa(code)
	m.httpRequests.Add(ctx, 1, metric.WithAttributes(attribute.String("method", method), attribute.String("path", route), attribute.String("status", c)))
	m.httpMillis.Record(ctx, float64(took.Microseconds())/1000, metric.WithAttributes(attribute.String("method", method), attribute.String("route", route), attribute.String("code", c)))
}

// ModelCall records one chat model call, and the tokens its provider reported.
func (m *Metrics) ModelCall(ctx context.Context, provider, model string, promptTokens, completionTokens int, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.modelSeconds.Record(ctx, took.Seconds(), metric.WithAttributes(attribute.String("provider", provider),
		attribute.String("model", model), attribute.String("status", status(err == nil))))
	if promptTokens > 0 {
		m.tokens.Add(ctx, int64(promptTokens), metric.WithAttributes(attribute.String("provider", provider),
			attribute.String("model", model), attribute.String("type", "prompt")))
	}
	if completionTokens > 0 {
		m.tokens.Add(ctx, int64(completionTokens), metric.WithAttributes(attribute.String("provider", provider),
			attribute.String("model", model), attribute.String("type", "completion")))
	}
}

// NodeAttempt records one attempt of a node's activity of kind (chatOpenAI, llmChain…).
// retried says it is not the first; failed ones are counted by whether they will be retried.
func (m *Metrics) NodeAttempt(ctx context.Context, kind string, retried bool, took time.Duration, err error, retryable bool) {
	if m == nil {
		return
	}
	k := attribute.String("kind", kind)
	if retried {
		m.nodeRetries.Add(ctx, 1, metric.WithAttributes(k))
	}
	m.nodeSeconds.Record(ctx, took.Seconds(), metric.WithAttributes(k, attribute.String("status", status(err == nil))))
	if err != nil {
		m.nodeFailures.Add(ctx, 1, metric.WithAttributes(k, attribute.Bool("retryable", retryable)))
	}
}

// RateLimited counts a request a chatflow's rate limit refused.
func (m *Metrics) RateLimited(ctx context.Context, chatflowID string) {
	if m == nil {
		return
	}
	m.rateLimited.Add(ctx, 1, metric.WithAttributes(attribute.String("chatflowid", chatflowID)))
}

// Subscribed counts a client that waits on a run's events, until the returned func is called.
func (m *Metrics) Subscribed(ctx context.Context) (done func()) {
	if m == nil {
		return func() {}
	}
	m.subscribers.Add(ctx, 1)
	return func() { m.subscribers.Add(context.Background(), -1) }
}
