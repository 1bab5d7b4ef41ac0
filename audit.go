package tokend

import (
	"context"
	"time"
	"tokend/perm"
)

// AuditEvent records a change or a refused use. It names tokens by uid, never by secret.
type AuditEvent struct {
	ID          int64
	AccountID   AccountID // zero: not bound to an account (a legacy key, a sign-in)
	ActorUserID UserID
	ActorToken  string // uid of the token that acted, if any
	Action      string // e.g. "service_token.created", "token.rotate", "token.refused"
	TargetType  string
	TargetID    int64
	Detail      map[string]string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
}

// AuditFilter selects audit events of one account, newest first.
type AuditFilter struct {
	AccountID   AccountID
	Action      string // empty: any
	ActorUserID UserID // zero: any actor
	// Token selects the events of one token: those it acted in (by uid) and those that acted
	// on it (a target of a token kind with id TokenID). Empty: any.
	TokenUID string
	TokenID  TokenID
	TimeRange
	// BeforeID keeps events older than this id (zero: all): an export reads page after page
	// from where the last one ended, so rows appended meanwhile neither shift nor repeat.
	BeforeID int64
	// NoTotal skips counting the matches (the total returned is -1): the pages of an export
	// after the first.
	NoTotal bool
	Page
}

// TokenTargetTypes are the audit target types that name a token.
var TokenTargetTypes = []string{string(KindPAT), string(KindService), string(KindSCIM), string(KindLegacyKey)}

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

// event starts an audit event for an action by p in accountID, with the request's origin. The
// target may be an object of any kind, so its id is recorded as a plain integer.
func event[ID ~int64](ctx context.Context, p *Principal, accountID AccountID, action, targetType string, targetID ID) *AuditEvent {
	m := RequestMetaFrom(ctx)
	e := &AuditEvent{AccountID: accountID, Action: action, TargetType: targetType, TargetID: int64(targetID),
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

// AuditLog lists the account's audit events, newest first; it needs read access to the audit
// log.
func (s *Service) AuditLog(ctx context.Context, p *Principal, f AuditFilter) ([]*AuditEvent, int, error) {
	f, err := s.auditFilter(ctx, p, f)
	if err != nil {
		return nil, 0, err
	}
	f.Page = f.Page.Normalize()
	return s.store.ListAudit(ctx, f)
}

// auditFilter checks the caller and the filter, and resolves the token's uid to its id in the
// account (a uid no token of the account has still matches the events it acted in: a token
// deleted for good, a refused one).
func (s *Service) auditFilter(ctx context.Context, p *Principal, f AuditFilter) (AuditFilter, error) {
	if err := authorize(p, f.AccountID, perm.AuditLog, perm.Read, 0); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, Invalidf("since", "The start of the date range (since) must be before its end (until).")
	}
	if err := checkText("event_type", f.Action); err != nil {
		return f, err
	}
	if f.ActorUserID < 0 {
		return f, Invalidf("actor_user_id", "\"actor_user_id\" must be a user's id.")
	}
	f.TokenID, f.BeforeID, f.NoTotal = 0, 0, false
	if f.TokenUID != "" {
		if err := checkText("token_uid", f.TokenUID); err != nil {
			return f, err
		}
		t, err := s.store.TokenByUID(ctx, f.AccountID, f.TokenUID)
		switch {
		case err == nil && t.AccountID == f.AccountID:
			f.TokenID = t.ID
		case err != nil && !isNotFound(err):
			return f, err
		}
	}
	return f, nil
}

// DefaultMaxAuditExport bounds the events of one export (Options.MaxAuditExport): past it, the
// caller narrows the filters.
const DefaultMaxAuditExport = 100_000

// AuditExport reads the events an export holds, page after page from the store, so that no
// export is held in memory whole.
type AuditExport struct {
	// Total is how many events the export holds.
	Total int
	st    Store
	f     AuditFilter
	first []*AuditEvent
	done  bool
}

// ExportAudit starts an export of the account's audit events that f selects (its page is
// ignored), newest first. It refuses, before anything is written, a filter that selects more
// than Options.MaxAuditExport events.
func (s *Service) ExportAudit(ctx context.Context, p *Principal, f AuditFilter) (*AuditExport, error) {
	f, err := s.auditFilter(ctx, p, f)
	if err != nil {
		return nil, err
	}
	f.Page = Page{Limit: MaxLimit}
	first, total, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	if max := s.opts.MaxAuditExport; total > max {
		return nil, Invalidf("filters", "These filters select %d events, more than the %d one export may hold: narrow the date range or filter by event type, actor or token, and export in parts.",
			total, max)
	}
	f.NoTotal = true
	return &AuditExport{Total: total, st: s.store, f: f, first: first, done: len(first) < MaxLimit}, nil
}

// Next returns the next page of events, or none when the export is done.
func (x *AuditExport) Next(ctx context.Context) ([]*AuditEvent, error) {
	if x.first != nil {
		es := x.first
		x.first = nil
		if len(es) > 0 {
			x.f.BeforeID = es[len(es)-1].ID
		}
		return es, nil
	}
	if x.done {
		return nil, nil
	}
	es, _, err := x.st.ListAudit(ctx, x.f)
	if err != nil {
		return nil, err
	}
	if len(es) < x.f.Limit {
		x.done = true
	}
	if len(es) > 0 {
		x.f.BeforeID = es[len(es)-1].ID
	}
	return es, nil
}
