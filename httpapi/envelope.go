package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tokend"
	"tokend/edge"
)

// status is the dbt envelope's status object.
type status struct {
	Code             int    `json:"code"`
	IsSuccess        bool   `json:"is_success"`
	UserMessage      string `json:"user_message"`
	DeveloperMessage string `json:"developer_message"`
}

type envelope struct {
	Status status `json:"status"`
	Data   any    `json:"data"`
	Extra  any    `json:"extra,omitempty"`
}

// listExtra is the "extra" of a list response.
type listExtra struct {
	Filters    map[string]any `json:"filters"`
	OrderBy    string         `json:"order_by"`
	Pagination pagination     `json:"pagination"`
}

type pagination struct {
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

func writeJSON(w http.ResponseWriter, code int, data, extra any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(envelope{
		Status: status{Code: code, IsSuccess: true, UserMessage: "Success!", DeveloperMessage: ""},
		Data:   data,
		Extra:  extra,
	})
}

func writeOK(w http.ResponseWriter, data any) { writeJSON(w, http.StatusOK, data, nil) }

func writeList(w http.ResponseWriter, data any, count, total int, filters map[string]any, orderBy string) {
	writeJSON(w, http.StatusOK, data, listExtra{
		Filters: filters, OrderBy: orderBy, Pagination: pagination{Count: count, TotalCount: total},
	})
}

// okHead is how writeOK and writeList begin their body: the envelope up to its data.
var okHead = func() []byte {
	head := encodeJSON(struct {
		Status status `json:"status"`
	}{status{Code: http.StatusOK, IsSuccess: true, UserMessage: "Success!"}})
	return append(head[:len(head)-1:len(head)-1], `,"data":`...)
}()

// writeEncodedOK is writeOK for data already encoded (see encodedCache): the same bytes.
func (s *Server) writeEncodedOK(w http.ResponseWriter, data []byte) {
	buf := s.body()
	b := append(append(append(*buf, okHead...), data...), "}\n"...)
	s.writeBody(w, buf, b)
}

// writeEncodedList is writeList for items kept in c (see encodedCache): the same bytes,
// without encoding each item again.
func writeEncodedList[K comparable, V any](s *Server, w http.ResponseWriter, c *encodedCache[K, V], items []*V,
	id func(*V) K, total int, filters map[string]any, orderBy string) {
	buf := s.body()
	b := c.appendList(append(*buf, okHead...), items, id)
	b = append(b, `,"extra":`...)
	b = appendListExtra(b, listExtra{Filters: filters, OrderBy: orderBy,
		Pagination: pagination{Count: len(items), TotalCount: total}})
	b = append(b, "}\n"...)
	s.writeBody(w, buf, b)
}

// appendListExtra appends x as encodeJSON would: the filters' keys in order, and each value by
// hand when it is a number or a string (what lists echo); anything else through encodeJSON.
// A list's extra encoded by reflection cost a third of a list of 20 cached projects.
func appendListExtra(b []byte, x listExtra) []byte {
	b = append(b, `{"filters":`...)
	if x.Filters == nil {
		b = append(b, "null"...)
	} else {
		var buf [8]string
		keys := buf[:0]
		for k := range x.Filters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			switch v := x.Filters[k].(type) {
			case int:
				b = strconv.AppendInt(b, int64(v), 10)
			case int64:
				b = strconv.AppendInt(b, v, 10)
			case string:
				b = appendJSONString(b, v)
			default:
				b = append(b, encodeJSON(v)...)
			}
		}
		b = append(b, '}')
	}
	b = append(b, `,"order_by":`...)
	b = appendJSONString(b, x.OrderBy)
	b = append(b, `,"pagination":{"count":`...)
	b = strconv.AppendInt(b, int64(x.Pagination.Count), 10)
	b = append(b, `,"total_count":`...)
	b = strconv.AppendInt(b, int64(x.Pagination.TotalCount), 10)
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string, as encodeJSON writes it: by hand when it holds
// printable ASCII only, without quotes or backslashes (nothing to escape), else by encodeJSON.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return append(b, encodeJSON(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// body returns a buffer for a response body, to be handed back to writeBody.
func (s *Server) body() *[]byte {
	if buf, ok := s.bodies.Get().(*[]byte); ok {
		return buf
	}
	return new([]byte)
}

// chunkAbove is the body length above which net/http, not told the length, would send a
// body chunked: it sets Content-Length itself only for a body it holds whole.
const chunkAbove = 2048

// writeBody answers 200 with body b (built in buf) as JSON, and keeps buf for the next body.
func (s *Server) writeBody(w http.ResponseWriter, buf *[]byte, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if len(b) > chunkAbove {
		h.Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	if cap(b) <= 1<<18 { // a rare long body is not kept
		*buf = b[:0]
		s.bodies.Put(buf)
	}
}

// missingMessage sets the headers that name what a refused token lacked and returns the
// developer message that says the same.
func missingMessage(h http.Header, m *tokend.Missing) string {
	h.Set("X-Tokend-Required-Permission", m.Permission)
	granted := strings.Join(m.GrantedBy, ", ")
	h.Set("X-Tokend-Granted-By", granted)
	dev := "missing permission " + m.Permission + "; granted by: " + granted
	if granted == "" {
		dev = "missing permission " + m.Permission + "; no permission set available here grants it"
	}
	if m.License != "" {
		h.Set("X-Tokend-License", m.License)
		dev += "; the user's license (" + m.License + ") rules it out"
	}
	return dev
}

// writeError answers err in the envelope, with the status the edge's table gives its code.
// An internal error's text goes to the request's log line; the client reads a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpStatus := edge.Fail(w, r, err)
	if httpStatus == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tokend"`)
	}
	w.Header().Set("Content-Type", "application/json")
	if err == tokend.ErrInvalidToken {
		w.WriteHeader(httpStatus)
		_, _ = w.Write(invalidTokenBody)
		return
	}
	var data any
	dev := string(tokend.ErrorCode(err))
	var de *tokend.Error
	if errors.As(err, &de) {
		data = de.Data
		if de.Field != "" {
			dev = "invalid field: " + de.Field
		}
		if m := de.Missing; m != nil && httpStatus == http.StatusForbidden {
			dev = missingMessage(w.Header(), m)
		}
	}
	w.WriteHeader(httpStatus)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(errorEnvelope(httpStatus, err, dev, data))
}

// invalidTokenBody is the envelope of tokend.ErrInvalidToken, encoded once: it is the answer
// to every refused token, a flood's included.
var invalidTokenBody = append(encodeJSON(errorEnvelope(edge.StatusOf(tokend.ErrInvalidToken),
	tokend.ErrInvalidToken, string(tokend.ErrorCode(tokend.ErrInvalidToken)), nil)), '\n')

// errorEnvelope is the envelope of err, answered with httpStatus.
func errorEnvelope(httpStatus int, err error, dev string, data any) envelope {
	return envelope{
		Status: status{Code: httpStatus, IsSuccess: false, UserMessage: tokend.ErrorMessage(err), DeveloperMessage: dev},
		Data:   data,
	}
}
