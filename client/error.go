package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// APIError is a response that was not a success. Its text is the server's user message, which
// never holds a credential (and this client redacts its own token from it regardless).
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the envelope's status.code; only a 404 here means "not found".
	Code             int
	UserMessage      string
	DeveloperMessage string
	// RetryAfter is the server's Retry-After (a 429 or 503), zero when it sent none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.UserMessage
	if msg == "" {
		msg = "no message from the server"
	}
	return fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// IsNotFound reports whether err is an API answer that the object does not exist.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == http.StatusNotFound
}

// IsUnauthorized reports whether err is a 401: no, a wrong, an expired or a revoked credential.
func IsUnauthorized(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized
}

// IsForbidden reports whether err is a 403: authenticated but not allowed.
func IsForbidden(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusForbidden
}
