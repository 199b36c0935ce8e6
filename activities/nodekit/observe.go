package nodekit

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/workflows/node"
)

// Observe makes every attempt of kind's activity visible: its span (the Temporal tracing
// interceptor's, local activities included) names the flow, the chat and the node, and the
// node series count the attempt, its duration, and whether it failed or was a retry.
func Observe[Req, Res any](d *Deps, kind string, fn func(context.Context, Req) (Res, error)) func(context.Context, Req) (Res, error) {
	return func(ctx context.Context, req Req) (Res, error) {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(spanAttrs(kind, req)...)
		}
		if d.Metrics == nil || !activity.IsActivity(ctx) {
			return fn(ctx, req)
		}
		start := time.Now()
		res, err := fn(ctx, req)
		d.Metrics.NodeAttempt(ctx, kind, activity.GetInfo(ctx).Attempt > 1, time.Since(start), err, willRetry(ctx, err))
		return res, err
	}
}

// willRetry reports whether Temporal tries a failed attempt again: it failed by itself (not
// aborted) with an error its retry policy does not rule out.
func willRetry(ctx context.Context, err error) bool {
	var app *temporal.ApplicationError
	return err != nil && !(errors.As(err, &app) && app.NonRetryable()) && ctx.Err() == nil
}

// spanAttrs names a node's attempt: what every request of a node activity carries.
func spanAttrs(kind string, req any) []attribute.KeyValue {
	attrs := []attribute.KeyValue{telemetry.NodeKindAttr.String(kind)}
	switch r := req.(type) {
	case node.Request:
		attrs = append(attrs, telemetry.NodeIDAttr.String(r.Node.ID), telemetry.ChatflowIDAttr.String(r.Run.ChatflowID),
			telemetry.ChatIDAttr.String(r.Run.ChatID), telemetry.SessionIDAttr.String(r.Run.SessionID))
	case node.StepRequest:
		attrs = append(attrs, telemetry.NodeIDAttr.String(r.Node.ID), telemetry.ChatflowIDAttr.String(r.Run.ChatflowID),
			telemetry.ChatIDAttr.String(r.Run.ChatID), telemetry.SessionIDAttr.String(r.Run.SessionID))
	case node.ToolRequest:
		attrs = append(attrs, telemetry.NodeIDAttr.String(r.Node.ID), telemetry.ChatflowIDAttr.String(r.Run.ChatflowID),
			telemetry.ChatIDAttr.String(r.Run.ChatID), telemetry.SessionIDAttr.String(r.Run.SessionID))
	}
	return attrs
}
