package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
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
