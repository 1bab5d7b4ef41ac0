package tokend

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"tokend/perm"
)

// Principal is who is asking: the verified token, its account and what it may do. A Principal
// is immutable once shared (but for the hash of its last address, an atomic), so cached ones
// are shared between requests.
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
	// rights is what the principal may do. Principals that may do the same share one (see
	// rightsPool), so that the cache holds a permission set once, not once per token.
	rights *rights
	// lastIP is the hash of the address of the last use (PATs and service tokens; zero: none
	// yet), see Service.noteAddress.
	lastIP atomic.Uint64
	// deadline is when the principal's verification cache entry stops answering, in Unix
	// nanoseconds, set by verifyCache.put before the principal is shared: here rather than in
	// the cache's entry, where it would cost 8 bytes a slot, since the principal's 144-byte
	// size class had room for it.
	deadline int64
}

// rights is what a principal may do, and what records its uses. It is immutable, so that it
// can be shared.
type rights struct {
	perms perm.Evaluated
	// uses records the capabilities the token is allowed (see Can); nil records nothing.
	uses *capRecorder
	// legacy is what only a legacy key's principal holds (nil for the others); a legacy key's
	// rights are its own, never shared.
	legacy *legacyKey
}

// Can reports whether the principal holds capability (r, a) in project projectID (zero:
// account-wide). An allowed check of a token is recorded as a use of the capability, in
// memory, for the least-privilege advice (see Service.Advice).
func (p *Principal) Can(r perm.Resource, a perm.Access, projectID ProjectID) bool {
	rs := p.rights
	if rs == nil || !rs.perms.Allows(r, a, int64(projectID)) {
		return false
	}
	rs.uses.record(p.TokenID, r, a, projectID)
	return true
}

// CanAnyProject reports whether the principal holds (r, a) in at least one project. It
// records nothing: what a caller then reads is checked, and recorded, project by project.
func (p *Principal) CanAnyProject(r perm.Resource, a perm.Access) bool {
	return p.perms().AllowsAnyProject(r, a)
}

// ProjectIDs returns the projects where the principal holds (r, a); all means every project.
// It records a use of (r, a) across every project when all, else in each project named.
func (p *Principal) ProjectIDs(r perm.Resource, a perm.Access) (all bool, ids []ProjectID) {
	all, raw := p.perms().ProjectIDs(r, a)
	var uses *capRecorder
	if p.rights != nil {
		uses = p.rights.uses
	}
	if all {
		uses.record(p.TokenID, r, a, 0)
	}
	for _, id := range raw {
		ids = append(ids, ProjectID(id))
		uses.record(p.TokenID, r, a, ProjectID(id))
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
	if l := p.legacyKey(); l != nil && l.retired != nil {
		return l.retired
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
func (p *Principal) Covers(g perm.Grant) bool { return p.perms().Covers(g) }

// perms is what the principal may do (nothing, for one built without rights).
func (p *Principal) perms() perm.Evaluated {
	if p.rights == nil {
		return perm.Evaluated{}
	}
	return p.rights.perms
}

// legacyKey is the legacy key's own state of a legacy key's principal, nil for the others.
func (p *Principal) legacyKey() *legacyKey {
	if p.rights == nil {
		return nil
	}
	return p.rights.legacy
}

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
