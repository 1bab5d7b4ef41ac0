package httpapi

import (
	"net/http"
	"strconv"

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

// auditLogs lists audit events, newest first, with limit/offset and the filters since (inclusive),
// until (exclusive) and event_type.
func (s *Server) auditLogs(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID(r, "account_id")
	if err != nil {
		return err
	}
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	f := tokend.AuditFilter{AccountID: accountID, Action: r.URL.Query().Get("event_type"), Page: page}
	if f.Since, err = parseTime(r, "since"); err != nil {
		return err
	}
	if f.Until, err = parseTime(r, "until"); err != nil {
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
	filters := pageFilters(page)
	if f.Action != "" {
		filters["event_type"] = f.Action
	}
	if t := jsonTime(f.Since); t != nil {
		filters["since"] = *t
	}
	if t := jsonTime(f.Until); t != nil {
		filters["until"] = *t
	}
	writeList(w, out, len(out), total, filters, "-created_at")
	return nil
}
