package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/workflows"
)

// scrape serves the process's series in Prometheus's text format (ENABLE_METRICS=true,
// METRICS_PROVIDER=prometheus), behind the API key as Flowise serves them.
type scrape struct{ handler http.Handler }

func (s *scrape) routes(_, v1 *gin.RouterGroup) {
	v1.GET("/metrics", func(c *gin.Context) {
		if s.handler == nil {
			fail(c, http.StatusNotFound, "Metrics are not served here: they are off (set ENABLE_METRICS=true) or pushed through OTLP (METRICS_PROVIDER=open_telemetry)")
			return
		}
		s.handler.ServeHTTP(c.Writer, c.Request)
	})
}

// countRequests records every answered request in Flowise's http_requests_total and
// http_request_duration_ms, by the route's pattern. It runs outside recoverer, so a handler's
// panic is counted as the 500 it became.
func countRequests(m *telemetry.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		defer func() {
			route := c.FullPath()
			if route == "" {
				route = "unmatched"
			}
			m.HTTPRequest(c.Request.Context(), c.Request.Method, route, c.Writer.Status(), time.Since(start))
		}()
		c.Next()
	}
}

// tallyKey is where a prediction's tally waits in its request's gin.Context.
const tallyKey = "flowgate.prediction.tally"

// tally counts one prediction once, as Flowise counts them: success when its answer reached
// the client, failure for any error from the admitted request on (the flow would not
// compile, an upload was refused, Temporal was unavailable, the run failed). A resend that
// attached to its first request's run is that prediction, counted once.
type tally struct {
	metrics *telemetry.Metrics
	ctx     context.Context
	start   time.Time
	mu      sync.Mutex
	pr      telemetry.Prediction
	// counted is set once the prediction is counted, here or, for a resend that attached to
	// its first request's run, by that first request.
	counted bool
}

func (t *tally) finish(ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counted {
		return
	}
	t.counted = true
	t.metrics.Predicted(t.ctx, t.pr, ok, time.Since(t.start))
}

// beginPrediction starts counting an admitted prediction of chatflowID; the returned func,
// deferred by the handler, counts it failed if nothing counted it before and it answered an
// error. A prediction accepted to run later (202) is not counted here.
func (p *predictions) beginPrediction(c *gin.Context, chatflowID string) (end func()) {
	if p.metrics == nil {
		return func() {}
	}
	t := &tally{metrics: p.metrics, ctx: context.WithoutCancel(c.Request.Context()), start: time.Now(),
		pr: telemetry.Prediction{ChatflowID: chatflowID, Internal: c.GetHeader("x-request-from") == "internal"}}
	c.Set(tallyKey, t)
	return func() {
		if c.Writer.Status() >= http.StatusBadRequest {
			t.finish(false)
		}
	}
}

func tallyOf(c *gin.Context) *tally {
	t, _ := c.Value(tallyKey).(*tally)
	return t
}

// attached marks the request as a resend that joined its first request's run: the first
// request counts the prediction.
func attached(c *gin.Context) {
	if t := tallyOf(c); t != nil {
		t.mu.Lock()
		t.counted = true
		t.mu.Unlock()
	}
}

// observed is an answer whose run is counted when it ends: success once the client has its
// answer, failure when the run failed. A client that leaves first is not counted.
type observed[R any] struct {
	answerer[R]
	done func(ok bool)
}

func (o observed[R]) saved(ctx context.Context, res workflows.PredictionResult) bool {
	answered := o.answerer.saved(ctx, res)
	if answered {
		o.done(true)
	}
	return answered
}

func (o observed[R]) ended(res R, err error) {
	o.answerer.ended(res, err)
	o.done(err == nil)
}

// observe counts the prediction a answers (begun by beginPrediction) and marks its span
// failed, if either is on. agentflow and streaming complete its description.
func observe[R any](c *gin.Context, agentflow, streaming bool, a answerer[R]) answerer[R] {
	t := tallyOf(c)
	span := trace.SpanFromContext(c.Request.Context())
	if t == nil && !span.IsRecording() {
		return a
	}
	if t != nil {
		t.mu.Lock()
		t.pr.Agentflow, t.pr.Streaming = agentflow, streaming
		t.mu.Unlock()
	}
	return observed[R]{answerer: a, done: func(ok bool) {
		if t != nil {
			t.finish(ok)
		}
		if !ok {
			span.SetStatus(codes.Error, "the run failed")
		}
	}}
}

// startSpan opens a prediction's API span (tracing on) and puts it in the request's context,
// where the Temporal client's tracing interceptor finds it: the run's workflow and its nodes'
// activities become its children. The route is open, so a caller's traceparent does not make
// the span its child (which would let any caller force sampling and join our traces to its
// own): the span starts a new trace, linked to the caller's.
func (p *predictions) startSpan(c *gin.Context, chatflowID string) (end func()) {
	if p.tracer == nil {
		return func() {}
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithNewRoot(),
		trace.WithAttributes(telemetry.ChatflowIDAttr.String(chatflowID))}
	caller := propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(c.Request.Header))
	if sc := trace.SpanContextFromContext(caller); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	ctx, span := p.tracer.Start(c.Request.Context(), c.Request.Method+" "+c.FullPath(), opts...)
	c.Request = c.Request.WithContext(ctx)
	return func() {
		code := c.Writer.Status()
		span.SetAttributes(attribute.Int("http.response.status_code", code))
		if code >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(code))
		}
		span.End()
	}
}

// describeSpan adds what the request's body said to the prediction's span.
func describeSpan(c *gin.Context, chatID, sessionID string, streaming bool) {
	if span := trace.SpanFromContext(c.Request.Context()); span.IsRecording() {
		span.SetAttributes(telemetry.ChatIDAttr.String(chatID), telemetry.SessionIDAttr.String(sessionID), telemetry.StreamingAttr.Bool(streaming))
	}
}

// countedSubscription is a subscription counted in flowgate_stream_subscribers until closed.
type countedSubscription struct {
	stream.Subscription
	done func() // once only
}

func (s countedSubscription) Close() {
	s.Subscription.Close()
	s.done()
}

// counted counts sub among the stream's subscribers, metrics on.
func (p *predictions) counted(sub stream.Subscription) stream.Subscription {
	if p.metrics == nil {
		return sub
	}
	return countedSubscription{Subscription: sub, done: sync.OnceFunc(p.metrics.Subscribed(context.Background()))}
}
