package tokend

import "time"

// AuditEvent records a change or a refused use. It names tokens by uid, never by secret.
type AuditEvent struct {
	ID          int64
	AccountID   int64 // zero: not bound to an account (a legacy key, a sign-in)
	ActorUserID int64
	ActorToken  string // uid of the token that acted, if any
	Action      string // e.g. "token.create", "token.delete", "auth.refused"
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
