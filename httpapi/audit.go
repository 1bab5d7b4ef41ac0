package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"tokend"
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
		ID: strconv.FormatInt(e.ID, 10), AccountID: e.AccountID, Source: "api", Service: "tokend",
		Actor:     auditActorJSON{TokenUID: e.ActorToken},
		EventType: e.Action, EventLabel: e.Action,
		EventContext: auditContextJSON{TargetType: e.TargetType, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail},
		CreatedAt:    jsonTime(e.CreatedAt),
	}
	if out.EventContext.Detail == nil {
		out.EventContext.Detail = map[string]string{}
	}
	if e.ActorUserID != 0 {
		id := e.ActorUserID
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
// or a time), tokend's since (inclusive) and until (exclusive), and event_type.
func (s *Server) auditLogs(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID(r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "logged_at_start", "logged_at_end", "since", "until", "event_type")
	if err != nil {
		return err
	}
	f := tokend.AuditFilter{AccountID: accountID, Action: q.str("event_type"), Page: q.page}
	start, err := q.time("logged_at_start", false)
	if err != nil {
		return err
	}
	end, err := q.time("logged_at_end", true)
	if err != nil {
		return err
	}
	since, err := q.time("since", false)
	if err != nil {
		return err
	}
	until, err := q.time("until", false)
	if err != nil {
		return err
	}
	if !end.IsZero() {
		end = end.Add(time.Microsecond) // inclusive: times are kept to the microsecond
	}
	f.Since = latest(start, since)
	f.Until = earliest(end, until)
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
