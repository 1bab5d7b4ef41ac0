package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"tokend"
)

// timeFormat is how times appear in responses: RFC 3339 with microseconds, UTC.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// jsonTime renders a time, or null when zero.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(timeFormat)
	return &s
}

// decode reads a JSON body into v, naming the problem when it cannot.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return tokend.Invalidf("body", "The request body must be JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return tokend.Invalidf("body", "The request body is larger than %d bytes.", mbe.Limit)
		case errors.Is(err, io.EOF):
			return tokend.Invalidf("body", "The request body is empty; a JSON object is expected.")
		case errors.As(err, &ute):
			return tokend.Invalidf(ute.Field, "Field %q must be of type %s.", ute.Field, ute.Type)
		case errors.As(err, &se):
			return tokend.Invalidf("body", "The request body is not valid JSON (at byte %d).", se.Offset)
		default:
			return tokend.Invalidf("body", "The request body could not be read as JSON.")
		}
	}
	if dec.More() {
		return tokend.Invalidf("body", "The request body must hold one JSON value.")
	}
	return nil
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, tokend.Errorf(tokend.ENotFound, "Not found: %s %s.", r.Method, r.URL.Path))
}
