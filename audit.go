package tokend

import (
	"context"
	"time"
	"tokend/perm"
)

// AuditEvent records a change or a refused use. It names tokens by uid, never by secret.
type AuditEvent struct {
	ID          int64
	AccountID   int64 // zero: not bound to an account (a legacy key, a sign-in)
	ActorUserID int64
	ActorToken  string // uid of the token that acted, if any
	Action      string // e.g. "service_token.created", "token.rotate", "token.refused"
	TargetType  string
	TargetID    int64
	Detail      map[string]string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
}

// AuditFilter selects audit events of one account.
type AuditFilter struct {
	AccountID int64
	Action    string // empty: any
	TimeRange
	Page
}

// Audit actions for the events dbt has, under dbt's own names; tokend's other events keep
// tokend's names ("token.rotate", "token.refused", "project.create", …).
const (
	ActionServiceTokenCreated = "service_token.created"
	ActionServiceTokenRevoked = "service_token.revoked"
	ActionPATCreated          = "account_scoped_pat.created"
	ActionPATDeleted          = "account_scoped_pat.deleted"
)

// revokedAction is the audit action of deleting a token of kind k.
func revokedAction(k TokenKind) string {
	switch k {
	case KindService:
		return ActionServiceTokenRevoked
	case KindPAT:
		return ActionPATDeleted
	}
	return "token.delete"
}

// AuditLog lists the account's audit events, newest first; it needs read access to the audit
// log.
func (s *Service) AuditLog(ctx context.Context, p *Principal, f AuditFilter) ([]*AuditEvent, int, error) {
	if err := authorize(p, f.AccountID, perm.AuditLog, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return nil, 0, Invalidf("since", "\"since\" must be before \"until\".")
	}
	if err := checkText("event_type", f.Action); err != nil {
		return nil, 0, err
	}
	f.Page = f.Page.Normalize()
	return s.store.ListAudit(ctx, f)
}

// event starts an audit event for an action by p in accountID, with the request's origin.
func event(ctx context.Context, p *Principal, accountID int64, action, targetType string, targetID int64) *AuditEvent {
	m := RequestMetaFrom(ctx)
	e := &AuditEvent{AccountID: accountID, Action: action, TargetType: targetType, TargetID: targetID,
		IP: m.IP, UserAgent: m.UserAgent}
	if p != nil {
		e.ActorUserID, e.ActorToken = p.UserID, p.TokenUID
	}
	return e
}

// audit appends an event that records no change of state (a refused token, a failed sign-in);
// a failure is logged, never returned, so an audit outage does not turn into an outage of the
// API. Events of a change are written in its transaction (see change).
func (s *Service) audit(ctx context.Context, e *AuditEvent) {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	if webhookEventOf(e.Action) == "" {
		if err := s.store.AppendAudit(ctx, e); err != nil {
			s.log.Error("append audit event", "action", e.Action, "err", err)
		}
		return
	}
	// An event that endpoints may subscribe to (a token reused after its rotation): its
	// messages go in the transaction of its audit row.
	queued := 0
	err := s.store.Tx(ctx, func(st Store) error {
		if err := st.AppendAudit(ctx, e); err != nil {
			return err
		}
		var err error
		queued, err = s.enqueueWebhooks(ctx, st, []*AuditEvent{e})
		return err
	})
	if err != nil {
		s.log.Error("append audit event", "action", e.Action, "err", err)
	}
	if queued > 0 {
		s.wakeDeliveries()
	}
}
