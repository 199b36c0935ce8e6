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
// http_request_duration_ms, by the route's pattern.
func countRequests(m *telemetry.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.HTTPRequest(c.Request.Context(), c.Request.Method, route, c.Writer.Status(), time.Since(start))
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

// observe counts the prediction a answers in its series and ends its span, if either is on.
func observe[R any](p *predictions, c *gin.Context, pr telemetry.Prediction, a answerer[R]) answerer[R] {
	if p.metrics == nil && p.tracer == nil {
		return a
	}
	start := time.Now()
	span := trace.SpanFromContext(c.Request.Context())
	return observed[R]{answerer: a, done: func(ok bool) {
		p.metrics.Predicted(c.Request.Context(), pr, ok, time.Since(start))
		if !ok {
			span.SetStatus(codes.Error, "the run failed")
		}
	}}
}

// prediction describes a prediction for its series.
func prediction(c *gin.Context, chatflowID string, agentflow, streaming bool) telemetry.Prediction {
	return telemetry.Prediction{ChatflowID: chatflowID, Agentflow: agentflow, Streaming: streaming,
		Internal: c.GetHeader("x-request-from") == "internal"}
}

// startSpan opens a prediction's API span (tracing on) and puts it in the request's context,
// where the Temporal client's tracing interceptor finds it: the run's workflow and its nodes'
// activities become its children. A caller's traceparent header makes it a child in turn.
func (p *predictions) startSpan(c *gin.Context, chatflowID string) (end func()) {
	if p.tracer == nil {
		return func() {}
	}
	ctx := propagation.TraceContext{}.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
	ctx, span := p.tracer.Start(ctx, c.Request.Method+" "+c.FullPath(), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(telemetry.ChatflowIDAttr.String(chatflowID)))
	c.Request = c.Request.WithContext(ctx)
	return func() {
		span.SetAttributes(attribute.Int("http.response.status_code", c.Writer.Status()))
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
	once *sync.Once
	done func()
}

func (s countedSubscription) Close() {
	s.Subscription.Close()
	s.once.Do(s.done)
}

// counted counts sub among the stream's subscribers, metrics on.
func (p *predictions) counted(sub stream.Subscription) stream.Subscription {
	if p.metrics == nil {
		return sub
	}
	return countedSubscription{Subscription: sub, once: &sync.Once{}, done: p.metrics.Subscribed(context.Background())}
}
