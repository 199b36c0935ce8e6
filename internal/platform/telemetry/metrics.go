// Package telemetry is what Flowgate's packages record and name: the Metrics recorder of
// Flowgate's series (on the OpenTelemetry metric API only), the span attributes' keys, and the
// settings (Config). The SDK, its exporters and the scrape handler are built by its
// subpackage otelsetup, in internal/app only.
package telemetry

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics are Flowgate's series. Flowise's keep its names and its status label (success,
// failure); Flowgate's own start with flowgate_. Every method of a nil *Metrics returns at
// once: metrics off.
//
// Every label comes from a bounded set: flow ids (the flows in the database), route patterns,
// standard HTTP methods, node kinds, provider names. Caller-chosen strings (a model name an
// override may set, a made-up HTTP method) never become a label.
type Metrics struct {
	predictions [2]metric.Int64Counter // by Prediction.Internal
	events      map[Event]metric.Int64Counter

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

	// The attribute sets of the hot series, built once per label tuple.
	predictionSets attrSets[predictionLabels]
	httpSets       attrSets[httpLabels]
	nodeSets       attrSets[nodeLabels]
}

// Event is one of Flowise's event counters (its FLOWISE_METRIC_COUNTERS) that Flowgate has a
// cause for.
type Event string

const (
	ChatflowCreated  Event = "chatflow_created"
	AgentflowCreated Event = "agentflow_created"
	ToolCreated      Event = "tool_created"
	VectorUpserted   Event = "vector_upserted"
)

var eventHelp = map[Event]string{
	ChatflowCreated:  "Total number of Chatflow Created",
	AgentflowCreated: "Total number of Agentflow Created",
	ToolCreated:      "Total number of Tool Created",
	VectorUpserted:   "Total number of Vectorstore Upsert",
}

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

// versionGauge is Flowise's flowise_version_info, labelled version="v<Flowgate's version>".
const versionGauge = "flowise_version_info"

// NewMetrics makes Flowgate's instruments on m; version is reported in flowise_version_info.
func NewMetrics(m metric.Meter, version string) (*Metrics, error) {
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
		// Flowise counts AGENTFLOW (v2) predictions here too: its agentflow_prediction_*
		// counters are for MULTIAGENT flows, which Flowgate does not run.
		predictions: [2]metric.Int64Counter{
			counter("chatflow_prediction_external", "Total number of Chatflow Prediction External"),
			counter("chatflow_prediction_internal", "Total number of Chatflow Prediction Internal"),
		},
		events:            map[Event]metric.Int64Counter{},
		predictionSeconds: histogram("flowgate_prediction_duration_seconds", "Time from a prediction's start to its answer", "s", predictionBuckets),
		// Flowise's buckets, in milliseconds.
		httpMillis:   histogram("http_request_duration_ms", "Duration of HTTP requests in ms", "ms", []float64{1, 5, 15, 50, 100, 200, 300, 400, 500}),
		httpRequests: counter("http_requests_total", "Total number of HTTP requests"),
		tokens:       counter("flowgate_llm_tokens_total", "Tokens a chat model's provider reported, by provider and type (prompt, completion)"),
		modelSeconds: histogram("flowgate_llm_call_duration_seconds", "Duration of chat model calls", "s", predictionBuckets),
		nodeSeconds:  histogram("flowgate_node_duration_seconds", "Duration of one attempt of a node's activity", "s", predictionBuckets),
		nodeFailures: counter("flowgate_node_failures_total", "Failed attempts of node activities; retryable=true ones are tried again"),
		nodeRetries:  counter("flowgate_node_retries_total", "Attempts of node activities after their first"),
		rateLimited:  counter("flowgate_rate_limit_refusals_total", "Requests refused by a chatflow's rate limit (429)"),
	}
	for e, help := range eventHelp {
		x.events[e] = counter(string(e), help)
	}
	var err error
	x.subscribers, err = m.Int64UpDownCounter("flowgate_stream_subscribers", metric.WithDescription("Clients waiting on a run's events (JSON or SSE) in this process"))
	errs = append(errs, err)
	info, err := m.Int64Gauge(versionGauge, metric.WithDescription("Flowise version info."))
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

type predictionLabels struct {
	Prediction
	ok bool
}

// Predicted counts a finished prediction in Flowise's counter of its origin
// (chatflow_prediction_external or _internal), by status, flow and mode, and records its
// duration by flow type.
func (m *Metrics) Predicted(ctx context.Context, p Prediction, ok bool, took time.Duration) {
	if m == nil {
		return
	}
	sets := m.predictionSets.get(predictionLabels{p, ok}, func(l predictionLabels) []attribute.Set {
		flowType := "chatflow"
		if l.Agentflow {
			flowType = "agentflow"
		}
		return []attribute.Set{
			attribute.NewSet(attribute.String("status", status(l.ok)), attribute.String("chatflowid", l.ChatflowID), attribute.Bool("streaming", l.Streaming)),
			attribute.NewSet(attribute.String("status", status(l.ok)), attribute.String("type", flowType), attribute.Bool("streaming", l.Streaming)),
		}
	})
	internal := 0
	if p.Internal {
		internal = 1
	}
	m.predictions[internal].Add(ctx, 1, metric.WithAttributeSet(sets[0]))
	m.predictionSeconds.Record(ctx, took.Seconds(), metric.WithAttributeSet(sets[1]))
}

// Count counts one of Flowise's event counters by outcome.
func (m *Metrics) Count(ctx context.Context, e Event, ok bool) {
	if m == nil {
		return
	}
	if c, known := m.events[e]; known {
		c.Add(ctx, 1, metric.WithAttributes(attribute.String("status", status(ok))))
	}
}

type httpLabels struct {
	method, route string
	code          int
}

// HTTPRequest records one answered request as Flowise does: http_requests_total by method,
// path and status, and http_request_duration_ms by method, route and code. route is the
// matched pattern (never the raw path, whose ids would make a series per id); a method other
// than the standard ones is counted as _OTHER.
func (m *Metrics) HTTPRequest(ctx context.Context, method, route string, code int, took time.Duration) {
	if m == nil {
		return
	}
	sets := m.httpSets.get(httpLabels{KnownMethod(method), route, code}, func(l httpLabels) []attribute.Set {
		c := strconv.Itoa(l.code)
		return []attribute.Set{
			attribute.NewSet(attribute.String("method", l.method), attribute.String("path", l.route), attribute.String("status", c)),
			attribute.NewSet(attribute.String("method", l.method), attribute.String("route", l.route), attribute.String("code", c)),
		}
	})
	m.httpRequests.Add(ctx, 1, metric.WithAttributeSet(sets[0]))
	m.httpMillis.Record(ctx, float64(took.Microseconds())/1000, metric.WithAttributeSet(sets[1]))
}

// KnownMethod is method if it is one of HTTP's standard methods, else "_OTHER" (as
// OpenTelemetry's HTTP conventions name it): anyone may send any method.
func KnownMethod(method string) string {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE":
		return method
	}
	return "_OTHER"
}

// ModelCall records one chat model call, and the tokens its provider reported, by provider.
// The model's name is not a label: a caller may set it (overrideConfig.modelName); it is on
// the call's span.
func (m *Metrics) ModelCall(ctx context.Context, provider string, promptTokens, completionTokens int, took time.Duration, err error) {
	if m == nil {
		return
	}
	p := attribute.String("provider", provider)
	m.modelSeconds.Record(ctx, took.Seconds(), metric.WithAttributes(p, attribute.String("status", status(err == nil))))
	if promptTokens > 0 {
		m.tokens.Add(ctx, int64(promptTokens), metric.WithAttributes(p, attribute.String("type", "prompt")))
	}
	if completionTokens > 0 {
		m.tokens.Add(ctx, int64(completionTokens), metric.WithAttributes(p, attribute.String("type", "completion")))
	}
}

type nodeLabels struct {
	kind      string
	failed    bool
	retryable bool
}

// NodeAttempt records one attempt of a node's activity of kind (chatOpenAI, llmChain…).
// retried says it is not the first; failed ones are counted by whether Temporal will try
// them again (retryable).
func (m *Metrics) NodeAttempt(ctx context.Context, kind string, retried bool, took time.Duration, err error, retryable bool) {
	if m == nil {
		return
	}
	sets := m.nodeSets.get(nodeLabels{kind, err != nil, retryable && err != nil}, func(l nodeLabels) []attribute.Set {
		k := attribute.String("kind", l.kind)
		return []attribute.Set{
			attribute.NewSet(k),
			attribute.NewSet(k, attribute.String("status", status(!l.failed))),
			attribute.NewSet(k, attribute.Bool("retryable", l.retryable)),
		}
	})
	if retried {
		m.nodeRetries.Add(ctx, 1, metric.WithAttributeSet(sets[0]))
	}
	m.nodeSeconds.Record(ctx, took.Seconds(), metric.WithAttributeSet(sets[1]))
	if err != nil {
		m.nodeFailures.Add(ctx, 1, metric.WithAttributeSet(sets[2]))
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

// maxAttrSets bounds the attribute sets one series family keeps; past it, sets are built at
// each call (correct, only slower). The SDK's cardinality limit bounds the series themselves.
const maxAttrSets = 4096

// attrSets keeps the attribute sets built for each label tuple, so that recording a series
// does not sort and allocate a set at every call.
type attrSets[K comparable] struct {
	mu   sync.RWMutex
	sets map[K][]attribute.Set
}

func (a *attrSets[K]) get(k K, build func(K) []attribute.Set) []attribute.Set {
	a.mu.RLock()
	s, ok := a.sets[k]
	a.mu.RUnlock()
	if ok {
		return s
	}
	s = build(k)
	a.mu.Lock()
	defer a.mu.Unlock()
	if have, ok := a.sets[k]; ok {
		return have
	}
	if a.sets == nil {
		a.sets = map[K][]attribute.Set{}
	}
	if len(a.sets) < maxAttrSets {
		a.sets[k] = s
	}
	return s
}
