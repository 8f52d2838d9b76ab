package magflow

import (
	"errors"
	"fmt"
)

// Error codes: the whole vocabulary. internal/httpapi maps each to one HTTP
// status in a single function; the CLI maps them to exit codes.
const (
	EConflict       = "conflict"        // the action conflicts with current state (e.g. a run already running)
	EInternal       = "internal"        // a bug or an unexpected failure
	EInvalid        = "invalid"         // the input is malformed or out of range
	ENotFound       = "not_found"       // the entity does not exist
	EUnauthorized   = "unauthorized"    // no valid credentials
	EForbidden      = "forbidden"       // valid credentials, not allowed
	EUnavailable    = "unavailable"     // a dependency (eMAG, the database) is down
	ERateLimited    = "rate_limited"    // too many requests
	ENotImplemented = "not_implemented" // the action is not supported
)

// Error is an application error that callers can branch on by Code. Message
// is safe to show to a user: it never carries a secret.
type Error struct {
	Code    string
	Message string
	// Field names the input that was wrong, when there is one.
	Field string
	// Err is the underlying cause, kept for logs and errors.Is/As.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", msg, e.Err)
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain, or a generic message for other errors (which may carry internals).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
