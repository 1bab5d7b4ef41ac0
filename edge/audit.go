package edge

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tokend"
)

// Audit log exports, in the same columns from the API and the console.

// AuditFormat checks an export format: "csv" or "json".
func AuditFormat(v string) (string, error) {
	switch v {
	case "csv", "json":
		return v, nil
	case "":
		return "", tokend.Invalidf("format", "Say which format to export: csv or json.")
	}
	return "", tokend.Invalidf("format", "An audit log exports as csv or json, not %q.", v)
}

// auditColumns are an export's columns (CSV) and keys (JSON), in order.
var auditColumns = []string{"id", "created_at", "event_type", "actor_user_id", "actor_token_uid",
	"target_type", "target_id", "ip", "user_agent", "detail"}

// auditRecord is one event of a JSON export.
type auditRecord struct {
	ID            int64             `json:"id"`
	CreatedAt     string            `json:"created_at"`
	EventType     string            `json:"event_type"`
	ActorUserID   *int64            `json:"actor_user_id"`
	ActorTokenUID string            `json:"actor_token_uid"`
	TargetType    string            `json:"target_type"`
	TargetID      *int64            `json:"target_id"`
	IP            string            `json:"ip"`
	UserAgent     string            `json:"user_agent"`
	Detail        map[string]string `json:"detail"`
}

func recordOf(e *tokend.AuditEvent) auditRecord {
	r := auditRecord{ID: e.ID, CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339Nano), EventType: e.Action,
		ActorTokenUID: e.ActorToken, TargetType: e.TargetType, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	if e.ActorUserID != 0 {
		id := int64(e.ActorUserID)
		r.ActorUserID = &id
	}
	if e.TargetID != 0 {
		id := e.TargetID
		r.TargetID = &id
	}
	if r.Detail == nil {
		r.Detail = map[string]string{}
	}
	return r
}

// csvCells are an event's cells, each neutralised (see neutralise).
func csvCells(e *tokend.AuditEvent) ([]string, error) {
	r := recordOf(e)
	detail, err := json.Marshal(r.Detail) // keys in order
	if err != nil {
		return nil, err
	}
	optional := func(id *int64) string {
		if id == nil {
			return ""
		}
		return strconv.FormatInt(*id, 10)
	}
	cells := []string{strconv.FormatInt(r.ID, 10), r.CreatedAt, r.EventType, optional(r.ActorUserID),
		r.ActorTokenUID, r.TargetType, optional(r.TargetID), r.IP, r.UserAgent, string(detail)}
	for i, c := range cells {
		cells[i] = neutralise(c)
	}
	return cells, nil
}

// neutralise keeps a spreadsheet from reading a cell as a formula: a cell that starts with
// = + - @ (or a tab or carriage return, which some spreadsheets skip before one) is prefixed
// with an apostrophe, which they show as text. A user agent, a name or a path in the details
// is whatever a caller sent.
func neutralise(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

// ExportAudit answers x as a download of format ("csv" or "json") named name (the extension is
// added), written page by page as the store gives them. An error before the first byte is
// returned for the caller to answer; after it, the error goes to the request's log line and
// the response is cut short (http.ErrAbortHandler), so that a client never takes a truncated
// file for a whole one.
func ExportAudit(ctx context.Context, w http.ResponseWriter, x *tokend.AuditExport, format, name string) error {
	page, err := x.Next(ctx)
	if err != nil {
		return err
	}
	if err := writeAudit(ctx, w, x, page, format, name); err != nil {
		noteError(ctx, err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func writeAudit(ctx context.Context, w http.ResponseWriter, x *tokend.AuditExport, page []*tokend.AuditEvent, format, name string) error {
	var err error
	h := w.Header()
	switch format {
	case "csv":
		h.Set("Content-Type", "text/csv; charset=utf-8")
	default:
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + format}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Tokend-Export-Count", strconv.Itoa(x.Total))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	var (
		cw    *csv.Writer
		first = true
	)
	if format == "csv" {
		cw = csv.NewWriter(w)
		if err := cw.Write(auditColumns); err != nil {
			return err
		}
	} else if _, err := w.Write([]byte("[")); err != nil {
		return err
	}
	for len(page) > 0 {
		// A long export is not cut by the server's write timeout while it makes progress.
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		for _, e := range page {
			if cw != nil {
				cells, err := csvCells(e)
				if err != nil {
					return err
				}
				if err := cw.Write(cells); err != nil {
					return err
				}
				continue
			}
			b, err := json.Marshal(recordOf(e))
			if err != nil {
				return err
			}
			if !first {
				b = append([]byte(",\n"), b...)
			}
			first = false
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		_ = rc.Flush()
		if page, err = x.Next(ctx); err != nil {
			return err
		}
	}
	if cw == nil {
		if _, err := w.Write([]byte("]\n")); err != nil {
			return err
		}
	}
	return nil
}

// AuditExportName is the file name of an export of account at now: "audit-log-<account>-<date>",
// the account's name reduced to letters, digits and hyphens.
func AuditExportName(account string, now time.Time) string {
	var b strings.Builder
	for _, r := range strings.ToLower(account) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	slug := strings.Trim(b.String(), "-")
	if slug == "" {
		slug = "account"
	}
	return fmt.Sprintf("audit-log-%s-%s", slug, now.UTC().Format("2006-01-02"))
}
