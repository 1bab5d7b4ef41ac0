package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"tokend"
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

// statusOf is the one table from error code to HTTP status.
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

// writeError answers err in the envelope. Internal errors are logged with their text and
// answered with a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := tokend.ErrorCode(err)
	httpStatus, ok := statusOf[code]
	if !ok {
		httpStatus = http.StatusInternalServerError
	}
	if httpStatus == http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var data any
	dev := string(code)
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
