package tokend

import "time"

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
