package llm

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
)

// errConfig marks failures caused by settings or credentials rather than by
// the provider, which no retry can fix.
var errConfig = errors.New("invalid configuration")

// ProviderError classifies failures so Temporal's retry policy (the only
// retry layer) can decide.
type ProviderError struct {
	Provider string
	// StatusCode is the provider's HTTP status, or 0 when none was received
	// (network failure, timeout, bad configuration).
	StatusCode int
	Retryable  bool
	Err        error
}

func (e *ProviderError) Error() string { return cmp.Or(e.Provider, "llm") + ": " + e.Err.Error() }

func (e *ProviderError) Unwrap() error { return e.Err }

// statusError carries the HTTP status of a failed provider call. Providers
// translate their SDK's error type into it so classification needs no
// knowledge of any SDK.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }

func (e *statusError) Unwrap() error { return e.err }

// classify decides retryability: configuration problems and 4xx answers other
// than 408, 409 and 429 are permanent; everything else (5xx, throttling,
// network failures, Config.Timeout expiring, truncated streams) may succeed
// on another attempt.
func classify(provider string, secret Secret, err error) *ProviderError {
	pe := &ProviderError{Provider: provider, Err: redact(err, secret), Retryable: true}
	var se *statusError
	switch {
	case errors.Is(err, errConfig):
		pe.Retryable = false
	case errors.As(err, &se):
		pe.StatusCode = se.status
		pe.Retryable = retryableStatus(se.status)
	}
	return pe
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return code < 400 || code >= 500
}

// redact hides credential values that a provider echoed into an error body.
// Only fields named like credentials are redacted: instance or deployment
// names in a message help debugging and are not secret.
func redact(err error, secret Secret) error {
	msg := err.Error()
	redacted := msg
	for name, value := range secret {
		// Trimmed like Secret.field, since that is the form that was sent.
		if value = strings.TrimSpace(value); value != "" && isCredentialField(name) {
			redacted = strings.ReplaceAll(redacted, value, "[REDACTED]")
		}
	}
	if redacted == msg {
		return err
	}
	return &redactedError{msg: redacted, err: err}
}

func isCredentialField(name string) bool {
	name = strings.ToLower(name)
	for _, hint := range []string{"key", "token", "secret", "password"} {
		if strings.Contains(name, hint) {
			return true
		}
	}
	return false
}

// redactedError keeps the original error reachable for errors.As while its
// message stays clean.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }
