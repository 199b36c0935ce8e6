package nodekit

import (
	"context"
	"errors"
	"slices"
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
		info := activity.GetInfo(ctx)
		d.Metrics.NodeAttempt(ctx, kind, info.Attempt > 1, time.Since(start), err, willRetry(ctx, info, err))
		return res, err
	}
}

// willRetry reports whether Temporal tries a failed attempt again: it failed by itself (not
// aborted), attempts are left, and neither the error nor its retry policy rules a retry out.
// (A server-side timeout fails an attempt without it returning: such attempts are not seen.)
func willRetry(ctx context.Context, info activity.Info, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var app *temporal.ApplicationError
	isApp := errors.As(err, &app)
	if isApp && app.NonRetryable() {
		return false
	}
	policy := info.RetryPolicy
	if policy == nil { // the server's default: unlimited attempts
		return true
	}
	if policy.MaximumAttempts > 0 && info.Attempt >= policy.MaximumAttempts {
		return false
	}
	return !isApp || !slices.Contains(policy.NonRetryableErrorTypes, app.Type())
}

// spanAttrs names a node's attempt: what every request of a node activity carries.
func spanAttrs(kind string, req any) []attribute.KeyValue {
	switch r := req.(type) {
	case node.Request:
		return nodeAttrs(kind, r.Node.ID, r.Run.ChatflowID, r.Run.ChatID, r.Run.SessionID)
	case node.StepRequest:
		return nodeAttrs(kind, r.Node.ID, r.Run.ChatflowID, r.Run.ChatID, r.Run.SessionID)
	case node.ToolRequest:
		return nodeAttrs(kind, r.Node.ID, r.Run.ChatflowID, r.Run.ChatID, r.Run.SessionID)
	}
	return []attribute.KeyValue{telemetry.NodeKindAttr.String(kind)}
}

func nodeAttrs(kind, nodeID, chatflowID, chatID, sessionID string) []attribute.KeyValue {
	return []attribute.KeyValue{telemetry.NodeKindAttr.String(kind), telemetry.NodeIDAttr.String(nodeID),
		telemetry.ChatflowIDAttr.String(chatflowID), telemetry.ChatIDAttr.String(chatID), telemetry.SessionIDAttr.String(sessionID)}
}
