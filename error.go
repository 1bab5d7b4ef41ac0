package tokend

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for callers; the HTTP layer maps each to one status.
type Code string

const (
	EInvalid         Code = "invalid"         // the request is malformed or breaks a rule
	EUnauthenticated Code = "unauthenticated" // no valid credential
	EForbidden       Code = "forbidden"       // authenticated but not allowed
	ENotFound        Code = "not_found"       // the object does not exist (or is not visible)
	EConflict        Code = "conflict"        // it would duplicate a unique thing
	ERateLimited     Code = "rate_limited"    // too many attempts
	EUnavailable     Code = "unavailable"     // a dependency is down; retry later
	EInternal        Code = "internal"        // a bug or an unexpected failure; details are logged, never shown
)

// Error is the domain's error. Message is safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Field names the request field at fault, for EInvalid.
	Field string
	// Data is an optional payload the API returns in place of null (for example the IP
	// restriction refusal). It must never hold secrets.
	Data any
	// RetryAfter is how long to wait before trying again, for ERateLimited and EUnavailable
	// (answered as Retry-After).
	RetryAfter time.Duration
	// Missing names, for a valid token refused for want of a capability, what it lacked.
	Missing *Missing
}

// Missing is what a refused token lacked, in the permission table's own names, so that the
// caller learns what to ask for rather than only that it was refused.
type Missing struct {
	Permission string   // the capability, e.g. "projects:write"
	GrantedBy  []string // the permission sets that would grant it, in table order
	// License is the person's license when it, not their groups, rules the capability out.
	License string
}

func (e *Error) Error() string {
	return fmt.Sprintf("tokend: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EInvalid error naming field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Retry advice for a store that is busy (a lock, a serialization failure: the next attempt
// likely succeeds) and for one that does not answer (a restart or a failover takes seconds).
const (
	RetryBusy        = time.Second
	RetryUnavailable = 5 * time.Second
)

// ErrorCode returns the code of err, EInternal for anything that is not an *Error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	// errors.AsType, not errors.As: As's target escapes, one allocation per call, and a
	// refusal asks for its code several times.
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the caller-safe message of err; internal errors get a generic text.
func ErrorMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Internal error."
}

// RetryAfter returns how long err asks the caller to wait (zero: no advice).
func RetryAfter(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}

func isNotFound(err error) bool { return ErrorCode(err) == ENotFound }
