package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
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
		case errors.As(err, &ute) && ute.Field == "":
			return tokend.Invalidf("body", "The request body must be %s, got %s.", jsonKind(ute.Type), jsonValue(ute.Value))
		case errors.As(err, &ute):
			return tokend.Invalidf(ute.Field, "Field %q must be %s, got %s.", ute.Field, jsonKind(ute.Type), jsonValue(ute.Value))
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

// jsonKind names what a Go type accepts in JSON terms, so that no Go type name reaches a client.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a JSON value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "a date and time (RFC 3339 string)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a different JSON value"
}

// jsonValue names the kind of JSON value the decoder found ("number 1.5" and the like become
// "a number").
func jsonValue(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "true or false"
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "null":
		return "null"
	case strings.HasPrefix(v, "number"):
		return "a number"
	case strings.HasPrefix(v, `"`):
		return "a string in another format"
	}
	return "another JSON value"
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, tokend.Errorf(tokend.ENotFound, "Not found: %s %s.", r.Method, r.URL.Path))
}

// field is a body field that tells "absent" (Set false) from null (Set, Value nil) and from a
// value, for updates where absent leaves a field alone and null clears it.
type field[T any] struct {
	Set   bool
	Value *T
}

func (f *field[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	f.Value = &v
	return nil
}

// orZero is the field's value, or T's zero value when absent or null.
func (f field[T]) orZero() T {
	var zero T
	if f.Value == nil {
		return zero
	}
	return *f.Value
}

// update is the field as an update reads it: nil when absent, a pointer to the zero value when
// null (clearing the field), else the value.
func (f field[T]) update() *T {
	if !f.Set {
		return nil
	}
	v := f.orZero()
	return &v
}
