package tokend

import (
	"context"
	"time"

	"tokend/perm"
	"tokend/secret"
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
	ID        TokenID
	Kind      TokenKind
	AccountID AccountID // zero for legacy keys
	UserID    UserID    // the PAT's or legacy key's user; zero for service tokens
	CreatedBy UserID    // the user who created it; kept for the record only
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
	// RotatedFrom is the token this one replaced in a rotation (zero: it was not made by one):
	// the link by which a rotation chain is walked both ways (Store.RevokeRotationChain).
	// FirstUseOverlap, on the newest token of a rotation, is the overlap granted to the one it
	// replaced that waits for this token's first use to start (zero: none waits); cleared when
	// the overlap starts (Store.StartOverlap, seen through Store.PendingOverlaps). Both are
	// written by CreateToken and not read back with the token: the reads of a token, the
	// verification among them, scan no column they do not need.
	RotatedFrom     TokenID
	FirstUseOverlap time.Duration
	// DisabledAt is when the token was disabled for inactivity (zero: it is not). A disabled
	// token is refused until an admin enables it, which sets EnabledAt and restarts the
	// inactivity clock from there. Deleting stays final; disabling is reversible.
	DisabledAt time.Time
	EnabledAt  time.Time
	// TrustPolicyID marks a federated service token: minted by a token exchange under this
	// trust policy (zero: any other token). Deleting the policy revokes it.
	TrustPolicyID TrustPolicyID
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
	AccountID AccountID // zero: any (legacy keys)
	UserID    UserID    // zero: any
	State     State     // zero: any
	// LastUsedBefore / LastUsedAfter / ExpiresBefore: zero means no filter.
	LastUsedBefore time.Time
	LastUsedAfter  time.Time
	ExpiresBefore  time.Time
	// Federated: only tokens minted by a token exchange.
	Federated bool
	// Search: tokens whose name contains it, ignoring case (ASCII case on SQLite), or whose
	// uid starts with it; empty: no search.
	Search string
	// NeverUsed: only tokens never used. Disabled: only tokens disabled for inactivity.
	NeverUsed bool
	Disabled  bool
	// IdleBefore: tokens whose latest activity (last use, or creation when never used) is
	// strictly before it; zero means no filter.
	IdleBefore time.Time
	// Order is by id (the default), created_at, last_used_at, expires_at or name; tokens
	// without the field (never used, no expiry) come last in either direction.
	Order Order
	Page
}

// PendingOverlap is a rotation whose overlap waits for the new token's first use, which has
// come: the replaced token may work until FirstUsedAt plus Overlap.
type PendingOverlap struct {
	AccountID   AccountID
	TokenID     TokenID // the new token
	RotatedFrom TokenID // the token it replaced
	Overlap     time.Duration
	FirstUsedAt time.Time
}

// TokenUse is one observed use of a token, folded in memory and written in batches.
type TokenUse struct {
	TokenID TokenID
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

// issue generates a token string for t (a PAT or service token), stores t with its hash and
// returns the string: the only time it exists outside the caller's hands.
func (s *Service) issue(ctx context.Context, st *txn, t *Token) (string, error) {
	kind := secret.PAT
	switch t.Kind {
	case KindService:
		kind = secret.Service
	case KindSCIM:
		kind = secret.SCIM
	}
	key, err := s.mintKey(ctx, st)
	if err != nil {
		return "", err
	}
	raw, uid, err := secret.Generate(s.rand, kind, key)
	if err != nil {
		return "", err
	}
	h := secret.Hash(raw)
	t.UID, t.Hash = uid, h[:]
	if err := st.CreateToken(ctx, t); err != nil {
		return "", err
	}
	st.issued = append(st.issued, h)
	// In the feed, so that other nodes add it to their filters before anyone can use it.
	st.invalidate(Invalidation{TokenID: t.ID})
	return raw, nil
}

// RevokeLeaked revokes the token whose string is raw. Holding a token is the proof of the
// right to kill it, so this needs no other credential: it is what a secret scanner or a
// person who found a leaked token calls. Legacy keys are revoked by rotating them instead.
func (s *Service) RevokeLeaked(ctx context.Context, raw, ip, userAgent string) (*Token, error) {
	parsed, err := secret.Parse(raw)
	if err != nil {
		return nil, s.tokenFailed(ip, ErrInvalidToken)
	}
	hash := secret.Hash(raw)
	t, _, err := s.lookup(ctx, raw, hash[:], parsed, ip, true)
	if err != nil {
		return nil, s.tokenFailed(ip, err)
	}
	if t.Kind == KindLegacyKey || t.State != StateActive {
		return nil, s.tokenFailed(ip, ErrInvalidToken)
	}
	err = s.change(ctx, func(st *txn) error {
		// The lookup read what verifying needs, not the whole row that the write puts back.
		full, err := st.Token(ctx, t.AccountID, t.ID)
		if err != nil {
			return err
		}
		t = full
		t.State = StateDeleted
		t.UpdatedAt = s.now()
		// Holding the token proves the right: the write is in its own account.
		if err := st.UpdateToken(ctx, t.AccountID, t); err != nil {
			return err
		}
		st.audit(&AuditEvent{AccountID: t.AccountID, ActorToken: t.UID,
			Action: "token.revoke_leaked", TargetType: string(t.Kind), TargetID: int64(t.ID),
			Detail: map[string]string{"uid": t.UID}, IP: ip, UserAgent: userAgent})
		st.invalidate(Invalidation{TokenID: t.ID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// revoke marks the token load returns deleted, audits it and drops it from every cache.
// Revoking a deleted token again is not an error.
func (s *Service) revoke(ctx context.Context, p *Principal, accountID AccountID, load func(Store) (*Token, error)) error {
	var t *Token
	err := s.change(ctx, func(st *txn) error {
		var err error
		if t, err = load(st); err != nil {
			return err
		}
		if t.State == StateDeleted {
			return nil
		}
		t.State = StateDeleted
		t.UpdatedAt = s.now()
		if err := st.UpdateToken(ctx, accountID, t); err != nil {
			return err
		}
		e := event(ctx, p, accountID, revokedAction(t.Kind), string(t.Kind), t.ID)
		e.Detail = map[string]string{"uid": t.UID, "name": t.Name}
		st.audit(e)
		st.invalidate(Invalidation{TokenID: t.ID})
		return nil
	})
	if err != nil {
		return err
	}
	return nil
}

// TokenInventory lists the account's tokens of one kind for an administrator, with filters,
// narrowed and ordered by q as well. It needs read access to API tokens (perm.ServiceTokens).
func (s *Service) TokenInventory(ctx context.Context, p *Principal, f TokenFilter, q TokenQuery) ([]*Token, int, error) {
	if err := authorize(p, f.AccountID, perm.ServiceTokens, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if f.Kind != KindPAT && f.Kind != KindService {
		return nil, 0, Invalidf("kind", "\"kind\" must be pat or service, got %q.", f.Kind)
	}
	f.Page = f.Page.Normalize()
	ts, total, err := s.store.ListTokens(ctx, q.narrow(f, s.now()))
	if err != nil {
		return nil, 0, err
	}
	s.overlayUsage(ts)
	return ts, total, nil
}

// RevokeTokens revokes tokens of the account in bulk (any user's PATs, service tokens); it
// needs write access to API tokens. Unknown ids or ids of other accounts fail the whole call
// before anything is revoked.
func (s *Service) RevokeTokens(ctx context.Context, p *Principal, accountID AccountID, ids []TokenID) ([]*Token, error) {
	if err := authorize(p, accountID, perm.ServiceTokens, perm.Write, 0); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > 1000 {
		return nil, Invalidf("token_ids", "Give between 1 and 1000 token ids.")
	}
	var revoked []*Token
	err := s.change(ctx, func(st *txn) error {
		now := s.now()
		for _, id := range ids {
			t, err := st.Token(ctx, accountID, id)
			if isNotFound(err) || (err == nil && (t.AccountID != accountID || t.Kind == KindLegacyKey)) {
				return Invalidf("token_ids", "Token %d is not a token of account %d.", id, accountID)
			}
			if err != nil {
				return err
			}
			if t.State == StateDeleted {
				continue
			}
			t.State, t.UpdatedAt = StateDeleted, now
			if err := st.UpdateToken(ctx, accountID, t); err != nil {
				return err
			}
			e := event(ctx, p, accountID, revokedAction(t.Kind), string(t.Kind), t.ID)
			e.Detail = map[string]string{"uid": t.UID, "name": t.Name, "via": "bulk revoke"}
			st.audit(e)
			st.invalidate(Invalidation{TokenID: t.ID})
			revoked = append(revoked, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

// retireRotated ends a rotated-out token: at once without an overlap, else when the overlap ends
// (never later than it would have expired anyway; see rotationEnd for an overlap that waits for
// the new token's first use). The rotation is audited on the old token and its cached state
// dropped on every node.
func retireRotated(ctx context.Context, st *txn, p *Principal, accountID AccountID, old, fresh *Token, kind string, overlap time.Duration, now time.Time) error {
	if overlap == 0 {
		old.State = StateDeleted
	} else if end := rotationEnd(fresh, overlap, now); old.ExpiresAt.IsZero() || end.Before(old.ExpiresAt) {
		old.ExpiresAt = end
	}
	old.UpdatedAt = now
	if err := st.UpdateToken(ctx, accountID, old); err != nil {
		return err
	}
	e := event(ctx, p, old.AccountID, "token.rotate", kind, old.ID)
	e.Detail = map[string]string{"uid": old.UID, "new_uid": fresh.UID, "overlap": overlap.String()}
	if fresh.FirstUseOverlap > 0 {
		e.Detail["overlap_starts"] = "first_use"
	}
	st.audit(e)
	st.invalidate(Invalidation{TokenID: old.ID})
	return nil
}
