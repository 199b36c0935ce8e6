package otelsetup

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/temporal"
)

// quietTracer is the Temporal tracing interceptor's tracer with error texts kept off spans.
// The interceptor records a failed workflow's or activity's error (its message as the span's
// status and an exception event); a node's error may quote what a provider answered, which
// can echo the prompt. The spans keep that they failed and the error's type.
type quietTracer struct{ trace.Tracer }

func (q quietTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := q.Tracer.Start(ctx, name, opts...)
	quiet := quietSpan{span}
	return trace.ContextWithSpan(ctx, quiet), quiet
}

type quietSpan struct{ trace.Span }

func (s quietSpan) RecordError(err error, _ ...trace.EventOption) {
	if err != nil {
		s.Span.AddEvent("exception", trace.WithAttributes(attribute.String("exception.type", errorType(err))))
	}
}

func (s quietSpan) SetStatus(code codes.Code, _ string) {
	if code == codes.Error {
		s.Span.SetStatus(code, "failed")
		return
	}
	s.Span.SetStatus(code, "")
}

// errorType names an error without its text: an application error's type, else the Go type.
func errorType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() != "" {
		return app.Type()
	}
	return fmt.Sprintf("%T", err)
}
