package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"tokend"
	"tokend/edge"
)

// auditJSON is dbt's PublicAuditLogResponse.
type auditJSON struct {
	ID           string           `json:"id"`
	AccountID    int64            `json:"account_id"`
	Source       string           `json:"source"`
	Service      string           `json:"service"`
	Actor        auditActorJSON   `json:"actor"`
	EventType    string           `json:"event_type"`
	EventLabel   string           `json:"event_label"`
	EventContext auditContextJSON `json:"event_context"`
	CreatedAt    *string          `json:"created_at"`
}

type auditActorJSON struct {
	UserID   *int64 `json:"user_id"`
	TokenUID string `json:"token_uid,omitempty"`
}

type auditContextJSON struct {
	TargetType string            `json:"target_type"`
	TargetID   *int64            `json:"target_id"`
	IP         string            `json:"ip"`
	UserAgent  string            `json:"user_agent"`
	Detail     map[string]string `json:"detail"`
}

func toAuditJSON(e *tokend.AuditEvent) auditJSON {
	out := auditJSON{
		ID: strconv.FormatInt(e.ID, 10), AccountID: int64(e.AccountID), Source: "api", Service: "tokend",
		Actor:     auditActorJSON{TokenUID: e.ActorToken},
		EventType: e.Action, EventLabel: e.Action,
		EventContext: auditContextJSON{TargetType: e.TargetType, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail},
		CreatedAt:    jsonTime(e.CreatedAt),
	}
	if out.EventContext.Detail == nil {
		out.EventContext.Detail = map[string]string{}
	}
	if e.ActorUserID != 0 {
		id := int64(e.ActorUserID)
		out.Actor.UserID = &id
	}
	if e.TargetID != 0 {
		id := e.TargetID
		out.EventContext.TargetID = &id
	}
	return out
}

// auditLogs lists audit events, newest first, with limit/offset and the filters
// logged_at_start and logged_at_end (both inclusive; what dbtc and dbt-cloud-cli send: a date
// or a time), tokend's since (inclusive) and until (exclusive), event_type, actor_user_id, and
// token_uid (a token's uid: the events it acted in and those that acted on it).
func (s *Server) auditLogs(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	f, q, err := auditQuery(r)
	if err != nil {
		return err
	}
	events, total, err := s.svc.AuditLog(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := make([]auditJSON, len(events))
	for i, e := range events {
		out[i] = toAuditJSON(e)
	}
	writeList(w, out, len(out), total, q.filters, "-created_at")
	return nil
}

// exportAuditLogs answers the events the list's filters select (without its paging) as a CSV or
// JSON download (format), read from the store page by page; at most the service's MaxAuditExport.
func (s *Server) exportAuditLogs(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	f, q, err := auditQuery(r, "format")
	if err != nil {
		return err
	}
	// Authorized first: a caller who may not read the log learns that, not a format's rules.
	x, err := s.svc.ExportAudit(r.Context(), p, f)
	if err != nil {
		return err
	}
	format, err := edge.AuditFormat(q.get("format"))
	if err != nil {
		return err
	}
	name := edge.AuditExportName("account-"+strconv.FormatInt(int64(f.AccountID), 10), time.Now())
	return edge.ExportAudit(r.Context(), w, x, format, name)
}

// auditQuery reads an audit list's filters from r's query string; more names parameters the
// route takes besides.
func auditQuery(r *http.Request, more ...string) (tokend.AuditFilter, *listQuery, error) {
	var f tokend.AuditFilter
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return f, nil, err
	}
	known := append([]string{"logged_at_start", "logged_at_end", "since", "until", "event_type", "actor_user_id", "token_uid"}, more...)
	q, err := readList(r, known...)
	if err != nil {
		return f, nil, err
	}
	f = tokend.AuditFilter{AccountID: accountID, Action: q.str("event_type"), TokenUID: q.str("token_uid"), Page: q.page}
	if v := q.get("actor_user_id"); v != "" {
		id, err := positiveID("actor_user_id", v)
		if err != nil {
			return f, nil, err
		}
		f.ActorUserID = tokend.UserID(id)
		q.filters["actor_user_id"] = f.ActorUserID
	}
	start, err := q.time("logged_at_start", false)
	if err != nil {
		return f, nil, err
	}
	end, err := q.time("logged_at_end", true)
	if err != nil {
		return f, nil, err
	}
	since, err := q.time("since", false)
	if err != nil {
		return f, nil, err
	}
	until, err := q.time("until", false)
	if err != nil {
		return f, nil, err
	}
	if !end.IsZero() {
		end = end.Add(time.Microsecond) // inclusive: times are kept to the microsecond
	}
	f.Since = latest(start, since)
	f.Until = earliest(end, until)
	return f, q, nil
}

// latest is the later of two range starts, earliest the earlier of two ends; zero is open.
func latest(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
