package jsrun

import (
	"errors"
	"fmt"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrTimeout: the script ran past Limits.Timeout or its context, or it
	// awaits a promise that nothing can ever settle.
	ErrTimeout = errors.New("jsrun: script timed out")
	// ErrMemory: the script allocated past Limits.MaxMemory, or asked a
	// built-in for a result bigger than the sandbox allows.
	ErrMemory = errors.New("jsrun: script exceeded its memory limit")
	// ErrForbidden: the script tried something the sandbox does not offer
	// (require of a module, eval, the Function constructor, ...).
	ErrForbidden = errors.New("jsrun: operation not allowed in the sandbox")
	// ErrOutputTooLarge: the result is bigger than Limits.MaxOutput. The
	// result is refused rather than truncated, since truncated JSON is
	// corrupt.
	ErrOutputTooLarge = errors.New("jsrun: script result exceeds the output limit")
)

// ScriptError is a JavaScript error that the script threw (or a syntax
// error in it), converted for Go callers.
type ScriptError struct {
	Name     string // "SyntaxError", "TypeError", "Error", ... or "Uncaught" for non-Error throws
	Message  string
	Location string // "custom-function.js:3:9" when known
	Stack    string // JavaScript stack trace when available
}

func (e *ScriptError) Error() string {
	msg := e.Name + ": " + e.Message
	if e.Location != "" {
		msg += " (at " + e.Location + ")"
	}
	return "jsrun: " + msg
}

// limitError is what the sandbox interrupts the VM with; it unwraps to one
// of the sentinels.
type limitError struct {
	kind   error
	detail string
}

func (e *limitError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return fmt.Sprintf("%s: %s", e.kind, e.detail)
}

func (e *limitError) Unwrap() error { return e.kind }

func memoryError(format string, args ...any) error {
	return &limitError{kind: ErrMemory, detail: fmt.Sprintf(format, args...)}
}

func timeoutError(format string, args ...any) error {
	return &limitError{kind: ErrTimeout, detail: fmt.Sprintf(format, args...)}
}
