package llm

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attributes of a provider call's span, named as OpenTelemetry's generative AI conventions
// name them. No prompt, answer or credential goes on it.
const (
	OperationAttr    = attribute.Key("gen_ai.operation.name")
	SystemAttr       = attribute.Key("gen_ai.system")
	ModelAttr        = attribute.Key("gen_ai.request.model")
	InputTokensAttr  = attribute.Key("gen_ai.usage.input_tokens")
	OutputTokensAttr = attribute.Key("gen_ai.usage.output_tokens")
)

// traced runs one call inside a span "chat <model>", a child of the caller's span (a node's
// activity), when there is one being recorded; otherwise tracing is off and nothing is spent.
func traced(ctx context.Context, cfg Config, call func(context.Context) (Response, error)) (Response, error) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return call(ctx)
	}
	ctx, span := parent.TracerProvider().Tracer("github.com/flowgate/flowgate/internal/providers/llm").Start(ctx,
		"chat "+cfg.Model, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(OperationAttr.String("chat"), SystemAttr.String(cfg.Provider), ModelAttr.String(cfg.Model)))
	defer span.End()
	resp, err := call(ctx)
	if err != nil {
		// Never the error's text: a provider may echo the prompt, or a key, in its message.
		span.SetStatus(codes.Error, failureStatus(err))
		return resp, err
	}
	span.SetAttributes(InputTokensAttr.Int(resp.Usage.PromptTokens), OutputTokensAttr.Int(resp.Usage.CompletionTokens))
	return resp, nil
}

// failureStatus describes a failed call without its error's text: the provider's HTTP status
// when it answered.
func failureStatus(err error) string {
	var pe *ProviderError
	if errors.As(err, &pe) && pe.StatusCode != 0 {
		return fmt.Sprintf("the provider answered %d", pe.StatusCode)
	}
	return "the call failed"
}
