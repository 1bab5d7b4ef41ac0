package tokend

import (
	"context"
	"math"
	"time"

	"tokend/perm"
)

// Principal is who is asking: the verified token, its account and what it may do. A Principal
// is immutable once built, so cached ones are shared between requests.
type Principal struct {
	Kind      TokenKind
	TokenID   TokenID
	TokenUID  string
	AccountID AccountID // zero for a legacy key
	UserID    UserID    // zero for a service token
	Plan      perm.Plan
	License   perm.License // PATs only
	ExpiresAt time.Time    // zero: never
	// until is when the token stops working, in Unix nanoseconds (zero: never): its own expiry
	// or, earlier, where the account's maximum lifetime ends it. The policy is read when the
	// principal is built, and the change feed drops cached principals when the account's
	// settings change, so that the cached path enforces it within the one comparison of its
	// entry's deadline.
	until int64
	perms perm.Evaluated
	// legacy is what only a legacy key's principal holds (nil for the others), behind one
	// pointer so that the principals of other tokens, which the cache keeps, do not carry it.
	legacy *legacyKey
	// uses records the capabilities the token is allowed (see Can); nil records nothing.
	uses *capRecorder
	// addr is the address of the last use (PATs and service tokens; nil for the others), see
	// Service.noteAddress.
	addr *lastAddress
}

// Can reports whether the principal holds capability (r, a) in project projectID (zero:
// account-wide). An allowed check of a token is recorded as a use of the capability, in
// memory, for the least-privilege advice (see Service.Advice).
func (p *Principal) Can(r perm.Resource, a perm.Access, projectID ProjectID) bool {
	if !p.perms.Allows(r, a, int64(projectID)) {
		return false
	}
	p.uses.record(p.TokenID, r, a, projectID)
	return true
}

// CanAnyProject reports whether the principal holds (r, a) in at least one project. It
// records nothing: what a caller then reads is checked, and recorded, project by project.
func (p *Principal) CanAnyProject(r perm.Resource, a perm.Access) bool {
	return p.perms.AllowsAnyProject(r, a)
}

// ProjectIDs returns the projects where the principal holds (r, a); all means every project.
// It records a use of (r, a) across every project when all, else in each project named.
func (p *Principal) ProjectIDs(r perm.Resource, a perm.Access) (all bool, ids []ProjectID) {
	all, raw := p.perms.ProjectIDs(r, a)
	if all {
		p.uses.record(p.TokenID, r, a, 0)
	}
	for _, id := range raw {
		ids = append(ids, ProjectID(id))
		p.uses.record(p.TokenID, r, a, ProjectID(id))
	}
	return all, ids
}

// stopped reports whether the token no longer works at now (see until).
func (p *Principal) stopped(now time.Time) bool {
	return p.until != 0 && now.UnixNano() >= p.until
}

// unixNanos is t in Unix nanoseconds for until (zero for the zero time), clamped to what an
// int64 holds: an end after 2262 is the latest instant; one at or before the epoch (long past,
// so the token has stopped) is 1, which zero, "never", cannot be mistaken for.
func unixNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	case !t.After(time.Unix(0, 0)):
		return 1
	}
	return t.UnixNano()
}

// legacyRefusal is a legacy key's refusal outside every migration window.
func (p *Principal) legacyRefusal() error {
	if p.legacy != nil && p.legacy.retired != nil {
		return p.legacy.retired
	}
	return ErrLegacyKeyRetired
}

// IsUser reports whether the principal acts as a person (a PAT or legacy key).
func (p *Principal) IsUser() bool {
	return p.Kind == KindPAT || p.Kind == KindLegacyKey || p.Kind == KindSession
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// RequestMeta is where a request came from, recorded in audit events.
type RequestMeta struct {
	IP        string
	UserAgent string
}

type metaKey struct{}

// WithRequestMeta returns ctx carrying m.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// RequestMetaFrom returns the request metadata in ctx (zero when absent).
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(metaKey{}).(RequestMeta)
	return m
}

// Covers reports whether p already holds everything g would grant.
func (p *Principal) Covers(g perm.Grant) bool { return p.perms.Covers(g) }

// InAccount checks the account boundary: an account-scoped principal reaches only its own
// account.
func (p *Principal) InAccount(accountID AccountID) error { return checkAccount(p, accountID) }

// Identity is what whoami answers: the user behind the token (nil for a service token) and
// the memberships the token may see.
type Identity struct {
	Principal   *Principal
	User        *User
	Memberships []*Membership
	Account     *Account
}

// Whoami describes the principal. An account-scoped token sees only its own account's
// membership.
func (s *Service) Whoami(ctx context.Context, p *Principal) (*Identity, error) {
	if p == nil {
		return nil, ErrInvalidToken
	}
	id := &Identity{Principal: p}
	if p.AccountID != 0 {
		a, err := s.account(ctx, p.AccountID)
		if err != nil {
			return nil, err
		}
		id.Account = a
	}
	if p.UserID == 0 {
		return id, nil
	}
	u, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	id.User = u
	ms, err := s.store.MembershipsOfUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.State == StateActive && s.visibleAccount(p, m.AccountID) {
			id.Memberships = append(id.Memberships, m)
		}
	}
	return id, nil
}

func (s *Service) visibleAccount(p *Principal, accountID AccountID) bool {
	if p.Kind != KindLegacyKey {
		return p.AccountID == accountID
	}
	for _, id := range p.LegacyAccounts() {
		if id == accountID {
			return true
		}
	}
	return false
}
