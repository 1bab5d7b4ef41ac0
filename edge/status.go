package edge

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"tokend"
)

// statusOf is the one table from a domain error code to an HTTP status, for both doors.
var statusOf = map[tokend.Code]int{
	tokend.EInvalid:         http.StatusBadRequest,
	tokend.EUnauthenticated: http.StatusUnauthorized,
	tokend.EForbidden:       http.StatusForbidden,
	tokend.ENotFound:        http.StatusNotFound,
	tokend.EConflict:        http.StatusConflict,
	tokend.ERateLimited:     http.StatusTooManyRequests,
	tokend.EUnavailable:     http.StatusServiceUnavailable,
	tokend.EInternal:        http.StatusInternalServerError,
}

// StatusOf returns the HTTP status of err's code; anything unknown is a 500.
func StatusOf(err error) int {
	if s, ok := statusOf[tokend.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Fail prepares the answer to err for either door and returns its status: a refusal for too
// many attempts says when to try again (Retry-After), and an internal error's text goes to the
// request's log line, never to the client. The door then writes its own body.
func Fail(w http.ResponseWriter, r *http.Request, err error) int {
	status := StatusOf(err)
	if wait := tokend.RetryAfter(err); wait > 0 {
		w.Header().Set("Retry-After", Seconds(wait))
	}
	if status == http.StatusInternalServerError {
		noteError(r.Context(), err)
	}
	return status
}

func noteError(ctx context.Context, err error) {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok && rq.err == nil {
		rq.err = err
	}
}

// Seconds renders a wait as whole seconds, rounded up, as Retry-After wants it.
func Seconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}
