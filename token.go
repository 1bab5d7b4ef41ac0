package tokend

import (
	"time"

	"tokend/perm"
)

// TokenKind tells the three kinds of API credential apart.
type TokenKind string

const (
	KindPAT       TokenKind = "pat"        // personal access token: a user in one account
	KindService   TokenKind = "service"    // service token: owned by an account, holds its own grants
	KindLegacyKey TokenKind = "legacy_key" // deprecated per-user key, not bound to an account
	// KindSCIM is a SCIM token: owned by an account, it reaches that account's SCIM endpoints
	// and nothing else.
	KindSCIM TokenKind = "scim"
	// KindSession is a signed-in web-console user acting in one account; it is a principal
	// kind only, never a stored token.
	KindSession TokenKind = "session"
)

// Token is a stored credential. The token string itself is never stored: Hash is the SHA-256 of
// it, and SlowHash (old-format tokens and legacy keys) a salted PBKDF2 hash.
type Token struct {
	ID        int64
	Kind      TokenKind
	AccountID int64 // zero for legacy keys
	UserID    int64 // the PAT's or legacy key's user; zero for service tokens
	CreatedBy int64 // the user who created it; kept for the record only
	UID       string
	Name      string
	Hash      []byte
	SlowHash  string
	// LegacyFormat marks a token created in the old format (imported): it is verified through the
	// slow hash until its first successful use upgrades it.
	LegacyFormat bool
	State        State
	ExpiresAt    time.Time // zero: never
	LastUsedAt   time.Time // zero: never
	LastUsedIP   string
	// RotatedAt is when a newer token replaced this one (it may still work through a rotation
	// overlap); zero while it is the newest of its chain. Only MarkTokenRotated sets it.
	RotatedAt time.Time
	// DisabledAt is when the token was disabled for inactivity (zero: it is not). A disabled
	// token is refused until an admin enables it, which sets EnabledAt and restarts the
	// inactivity clock from there. Deleting stays final; disabling is reversible.
	DisabledAt time.Time
	EnabledAt  time.Time
	// TrustPolicyID marks a federated service token: minted by a token exchange under this
	// trust policy (zero: any other token). Deleting the policy revokes it.
	TrustPolicyID int64
	// Permissions are a service token's own grants.
	Permissions []TokenPermission
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TokenPermission is a grant held by a service token, with the id the dbt API shows for it.
type TokenPermission struct {
	ID int64
	perm.Grant
}

// Grants returns the service token's grants.
func (t *Token) Grants() []perm.Grant {
	out := make([]perm.Grant, len(t.Permissions))
	for i, p := range t.Permissions {
		out[i] = p.Grant
	}
	return out
}

// Expired reports whether the token has an expiry at or before now.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// TokenFilter selects tokens for lists and the admin inventory.
type TokenFilter struct {
	Kind      TokenKind // required
	AccountID int64     // zero: any (legacy keys)
	UserID    int64     // zero: any
	State     State     // zero: any
	// LastUsedBefore / LastUsedAfter / ExpiresBefore: zero means no filter.
	LastUsedBefore time.Time
	LastUsedAfter  time.Time
	ExpiresBefore  time.Time
	// Federated: only tokens minted by a token exchange.
	Federated bool
	Page
}

// TokenUse is one observed use of a token, folded in memory and written in batches.
type TokenUse struct {
	TokenID int64
	At      time.Time
	IP      string
}

// canonical returns k as its constant, so that a principal kept in memory does not hold a
// copy of the kind's text read from the database.
func (k TokenKind) canonical() TokenKind {
	for _, c := range []TokenKind{KindPAT, KindService, KindLegacyKey, KindSCIM} {
		if k == c {
			return c
		}
	}
	return k
}
