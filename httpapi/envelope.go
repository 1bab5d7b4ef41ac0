package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
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

// writeEncodedList is writeList for items whose JSON item returns (see encodedCache): the
// same bytes, without encoding each item again.
func writeEncodedList[T any](s *Server, w http.ResponseWriter, items []T, item func(T) []byte, total int,
	filters map[string]any, orderBy string) {
	buf := s.body()
	b := append(append(*buf, okHead...), '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item(it)...)
	}
	b = append(b, `],"extra":`...)
	b = append(b, encodeJSON(listExtra{Filters: filters, OrderBy: orderBy,
		Pagination: pagination{Count: len(items), TotalCount: total}})...)
	b = append(b, "}\n"...)
	s.writeBody(w, buf, b)
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
	if httpStatus == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tokend"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(envelope{
		Status: status{Code: httpStatus, IsSuccess: false, UserMessage: tokend.ErrorMessage(err), DeveloperMessage: dev},
		Data:   data,
	})
}
