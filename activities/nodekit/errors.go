package nodekit

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// FlowError is a mistake in the flow; no retry can fix it.
func FlowError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), node.ErrFlow, nil)
}

// CredentialError is a credential that is missing or cannot be decrypted.
func CredentialError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), node.ErrCredential, nil)
}

// InvalidError is a request that cannot succeed as sent, such as an uploaded file that cannot
// be read; the caller is answered 4xx and no retry is made.
func InvalidError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), node.ErrInvalid, nil)
}

// Annotate prefixes an error's message with where it happened. A Temporal application error
// (a flow, credential or provider error) stays one, with its type and retry decision: the
// SDK reads only the outermost error of a failure, so wrapping one with %w would make it a
// retryable error of another type.
func Annotate(err error, format string, args ...any) error {
	prefix := fmt.Sprintf(format, args...)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	if app.NonRetryable() {
		return temporal.NewNonRetryableApplicationError(prefix+": "+app.Message(), app.Type(), nil)
	}
	return temporal.NewApplicationError(prefix+": "+app.Message(), app.Type())
}

// Classify turns a failure into the error type the workflow's retry policy understands.
func Classify(err error) error {
	var pe *llm.ProviderError
	switch {
	case err == nil:
		return nil
	case chatflow.IsFlowError(err):
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrFlow, nil)
	case errors.As(err, &pe) && !pe.Retryable:
		return temporal.NewNonRetryableApplicationError(err.Error(), node.ErrProvider, nil)
	case errors.As(err, &pe):
		return temporal.NewApplicationError(err.Error(), node.ErrProviderUnavailable)
	default:
		return err
	}
}
