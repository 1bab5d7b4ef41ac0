package tokend

import (
	"context"
	"strings"
	"time"

	"tokend/password"
	"tokend/perm"
)

// PATInput describes a new personal access token.
type PATInput struct {
	Name string
	// ExpiresAt is optional; zero means the account's maximum lifetime, or never when the
	// account sets none.
	ExpiresAt time.Time
}

// MaxRotationOverlap bounds how long a rotated token may keep working beside its successor.
const MaxRotationOverlap = 7 * 24 * time.Hour

// errNeedsUserContext answers a service token on an endpoint that acts as a person.
func errNeedsUserContext(userID int64) *Error {
	return Errorf(EForbidden, "This endpoint needs user context: use a personal access token of user %d. "+
		"Service tokens, even with account_admin, cannot act as a user.", userID)
}

// checkUserContext admits only a PAT of userID in accountID: what a user's own credentials
// and tokens need. Nobody else, not even an account admin, acts as that user.
func checkUserContext(p *Principal, accountID, userID int64) error {
	if p == nil {
		return ErrInvalidToken
	}
	if p.Kind == KindService {
		return errNeedsUserContext(userID)
	}
	if err := checkAccount(p, accountID); err != nil {
		return err
	}
	if p.UserID != userID {
		return Errorf(EForbidden, "A personal access token acts only for its own user (%d), not for user %d.", p.UserID, userID)
	}
	return nil
}

// ListPATs lists a user's personal access tokens in an account, for that user only.
func (s *Service) ListPATs(ctx context.Context, p *Principal, accountID, userID int64, state State, page Page) ([]*Token, int, error) {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return nil, 0, err
	}
	ts, total, err := s.store.ListTokens(ctx, TokenFilter{Kind: KindPAT, AccountID: accountID, UserID: userID,
		State: state, Page: page.Normalize()})
	if err != nil {
		return nil, 0, err
	}
	s.overlayUsage(ts)
	return ts, total, nil
}

// PAT returns one of a user's personal access tokens, for that user only.
func (s *Service) PAT(ctx context.Context, p *Principal, accountID, userID, id int64) (*Token, error) {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return nil, err
	}
	t, err := s.userPAT(ctx, s.store, accountID, userID, id)
	if err != nil {
		return nil, err
	}
	s.overlayUsage([]*Token{t})
	return t, nil
}

// userPAT loads a PAT and checks that it belongs to userID in accountID; anything else is a
// 404, so that ids of other people's tokens reveal nothing.
func (s *Service) userPAT(ctx context.Context, st Store, accountID, userID, id int64) (*Token, error) {
	t, err := st.Token(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if t.Kind != KindPAT || t.AccountID != accountID || t.UserID != userID {
		return nil, Errorf(ENotFound, "Personal access token %d not found.", id)
	}
	return t, nil
}

// CreatePAT creates a personal access token for the principal's own user; the string is
// returned this once.
func (s *Service) CreatePAT(ctx context.Context, p *Principal, accountID, userID int64, in PATInput) (*Token, string, error) {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return nil, "", err
	}
	return s.createPAT(ctx, accountID, userID, in, p.TokenUID)
}

// CreatePATWithPassword creates a user's first PAT without a token: the user signs in with
// e-mail and password (the request's address, from ctx, must pass the account's IP restrictions
// and the limit on password guesses). A wrong password of the member is audited.
func (s *Service) CreatePATWithPassword(ctx context.Context, accountID, userID int64, email, pw string, in PATInput) (*Token, string, error) {
	ip := RequestMetaFrom(ctx).IP
	// Before the password: from a blocked address nothing is checked at all.
	if err := s.CheckIP(ctx, &Principal{Kind: KindPAT, AccountID: accountID, UserID: userID}, ip); err != nil {
		if isNotFound(err) {
			err = ErrBadCredentials // an account that does not exist says no more than a wrong password
		}
		return nil, "", err
	}
	u, err := s.checkPassword(ctx, email, pw, ip)
	if err == nil && u.ID != userID {
		err = ErrBadCredentials
	}
	if err != nil {
		// Only a wrong password of the member the path names is worth an event in that
		// account, and it holds nothing the caller typed: a stranger could otherwise write
		// any text (a password typed as the e-mail) into any account's log.
		if err == ErrBadCredentials && u != nil && u.ID == userID {
			if m, err := s.store.Membership(ctx, accountID, userID); err == nil && m.State == StateActive {
				e := event(ctx, nil, accountID, "auth.password_refused", "user", userID)
				e.UserAgent = ""
				s.audit(ctx, e)
			}
		}
		return nil, "", err
	}
	return s.createPAT(ctx, accountID, userID, in, "")
}

// ErrBadCredentials answers a wrong e-mail or password.
var ErrBadCredentials = &Error{Code: EUnauthenticated, Message: "Invalid e-mail or password."}

func (s *Service) createPAT(ctx context.Context, accountID, userID int64, in PATInput, actorUID string) (*Token, string, error) {
	var (
		t   *Token
		raw string
	)
	err := s.change(ctx, func(st *txn) error {
		var err error
		t, raw, err = s.createPATIn(ctx, st, accountID, userID, in, actorUID, nil)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return t, raw, nil
}

// createPATIn creates a PAT within the change st; detail, when given, adds to the audit event
// (how the token came to be).
func (s *Service) createPATIn(ctx context.Context, st *txn, accountID, userID int64, in PATInput, actorUID string, detail map[string]string) (*Token, string, error) {
	if err := checkText("name", in.Name); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 255 {
		return nil, "", Invalidf("name", "The token name must be 1 to 255 characters.")
	}
	acct, err := st.Account(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	m, err := st.Membership(ctx, accountID, userID)
	if isNotFound(err) || (err == nil && m.State != StateActive) {
		return nil, "", Errorf(ENotFound, "User %d is not a member of account %d.", userID, accountID)
	}
	if err != nil {
		return nil, "", err
	}
	if !m.License.CanCreatePAT() {
		return nil, "", Errorf(EForbidden, "User %d has no valid license in account %d, so cannot create personal access tokens.", userID, accountID)
	}
	now := s.now()
	expires, err := patExpiry(acct, in.ExpiresAt, now)
	if err != nil {
		return nil, "", err
	}
	t := &Token{Kind: KindPAT, AccountID: accountID, UserID: userID, CreatedBy: userID, Name: name,
		State: StateActive, ExpiresAt: expires, CreatedAt: now, UpdatedAt: now}
	raw, err := s.issue(ctx, st, t)
	if err != nil {
		return nil, "", err
	}
	e := event(ctx, nil, accountID, ActionPATCreated, "pat", t.ID)
	e.ActorUserID, e.ActorToken = userID, actorUID
	e.Detail = map[string]string{"uid": t.UID, "name": name}
	for k, v := range detail {
		e.Detail[k] = v
	}
	if !expires.IsZero() {
		e.Detail["expires_at"] = expires.UTC().Format(time.RFC3339)
	}
	st.audit(e)
	return t, raw, nil
}

// patExpiry applies the account's maximum lifetime to a requested expiry.
func patExpiry(acct *Account, requested, now time.Time) (time.Time, error) {
	if !requested.IsZero() && !requested.After(now) {
		return time.Time{}, Invalidf("expires_at", "\"expires_at\" must be in the future.")
	}
	if acct.PATMaxLifetime <= 0 {
		return requested, nil
	}
	limit := now.Add(acct.PATMaxLifetime)
	if requested.IsZero() {
		return limit, nil
	}
	if requested.After(limit) {
		return time.Time{}, Invalidf("expires_at", "Account %d allows personal access tokens to live at most %s; "+
			"\"expires_at\" must be on or before %s.", acct.ID, acct.PATMaxLifetime, limit.UTC().Format(time.RFC3339))
	}
	return requested, nil
}

// RotatePAT replaces a PAT with a new one of the same name and lifetime, and returns the new
// string once. The old token stops at once, or after overlap when one is given.
func (s *Service) RotatePAT(ctx context.Context, p *Principal, accountID, userID, id int64, overlap time.Duration) (*Token, string, error) {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return nil, "", err
	}
	if overlap < 0 || overlap > MaxRotationOverlap {
		return nil, "", Invalidf("overlap_seconds", "The overlap must be between 0 and %d seconds.", int(MaxRotationOverlap.Seconds()))
	}
	var (
		fresh *Token
		raw   string
		old   *Token
	)
	err := s.change(ctx, func(st *txn) error {
		var err error
		if old, err = s.userPAT(ctx, st, accountID, userID, id); err != nil {
			return err
		}
		now := s.now()
		if old.State != StateActive || old.Expired(now) {
			return Invalidf("id", "Personal access token %d is deleted or expired; create a new one instead.", id)
		}
		// Only the newest token of a rotation chain rotates it: a replaced token still inside
		// its overlap must not mint further live successors.
		rotated := Invalidf("id", "Personal access token %d has been replaced by a newer token already; rotate the newest one instead.", id)
		if !old.RotatedAt.IsZero() {
			return rotated
		}
		if err := st.MarkTokenRotated(ctx, old.ID, now); err != nil {
			if ErrorCode(err) == EConflict {
				return rotated
			}
			return err
		}
		m, err := st.Membership(ctx, accountID, userID)
		if err != nil {
			return err
		}
		if !m.License.CanCreatePAT() {
			return Errorf(EForbidden, "User %d has no valid license in account %d, so cannot create personal access tokens.", userID, accountID)
		}
		acct, err := st.Account(ctx, accountID)
		if err != nil {
			return err
		}
		var expires time.Time
		if !old.ExpiresAt.IsZero() {
			expires = now.Add(old.ExpiresAt.Sub(old.CreatedAt))
		}
		if acct.PATMaxLifetime > 0 && (expires.IsZero() || expires.After(now.Add(acct.PATMaxLifetime))) {
			expires = now.Add(acct.PATMaxLifetime)
		}
		fresh = &Token{Kind: KindPAT, AccountID: accountID, UserID: userID, CreatedBy: userID, Name: old.Name,
			State: StateActive, ExpiresAt: expires, CreatedAt: now, UpdatedAt: now}
		if raw, err = s.issue(ctx, st, fresh); err != nil {
			return err
		}
		if err := retireRotated(ctx, st, p, old, fresh, "pat", overlap, now); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return fresh, raw, nil
}

// DeletePAT revokes one of the principal's own PATs at once.
func (s *Service) DeletePAT(ctx context.Context, p *Principal, accountID, userID, id int64) error {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return err
	}
	return s.revoke(ctx, p, accountID, func(st Store) (*Token, error) {
		return s.userPAT(ctx, st, accountID, userID, id)
	})
}

// revoke marks the token load returns deleted, audits it and drops it from every cache.
// Revoking a deleted token again is not an error.
func (s *Service) revoke(ctx context.Context, p *Principal, accountID int64, load func(Store) (*Token, error)) error {
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
		if err := st.UpdateToken(ctx, t); err != nil {
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

// overlayUsage shows uses this node has seen but not yet written, so lists are never staler
// than the flush interval on the node that served the token.
func (s *Service) overlayUsage(ts []*Token) {
	for _, t := range ts {
		if use, ok := s.usage.peek(t.ID); ok && use.At.After(t.LastUsedAt) {
			t.LastUsedAt, t.LastUsedIP = use.At, use.IP
		}
	}
}

// dummyHash is a valid hash of nothing anyone knows, for constant-time refusals.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = password.Hash(s.rand, "tokend: no such user", s.opts.PasswordParams)
	})
	return s.dummy
}

// TokenInventory lists the account's tokens of one kind for an administrator, with filters.
// It needs read access to API tokens (perm.ServiceTokens).
func (s *Service) TokenInventory(ctx context.Context, p *Principal, f TokenFilter) ([]*Token, int, error) {
	if err := authorize(p, f.AccountID, perm.ServiceTokens, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if f.Kind != KindPAT && f.Kind != KindService {
		return nil, 0, Invalidf("kind", "\"kind\" must be pat or service, got %q.", f.Kind)
	}
	f.Page = f.Page.Normalize()
	ts, total, err := s.store.ListTokens(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	s.overlayUsage(ts)
	return ts, total, nil
}

// RevokeTokens revokes tokens of the account in bulk (any user's PATs, service tokens); it
// needs write access to API tokens. Unknown ids or ids of other accounts fail the whole call
// before anything is revoked.
func (s *Service) RevokeTokens(ctx context.Context, p *Principal, accountID int64, ids []int64) ([]*Token, error) {
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
			if err := st.UpdateToken(ctx, t); err != nil {
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

// MaxActivityDays bounds an activity chart.
const MaxActivityDays = 366

// TokenActivity returns a token's requests per UTC day for the last days days (today
// included), oldest first, with zero days filled in. A user sees their own tokens; service
// tokens and other users' tokens need read access to API tokens.
func (s *Service) TokenActivity(ctx context.Context, p *Principal, tokenID int64, days int) ([]DailyUse, error) {
	if p == nil {
		return nil, ErrInvalidToken
	}
	if days <= 0 || days > MaxActivityDays {
		return nil, Invalidf("days", "\"days\" must be between 1 and %d.", MaxActivityDays)
	}
	// Unscoped: a legacy key has no account; the ownership check below decides.
	t, err := s.store.TokenUnscoped(ctx, tokenID)
	if err != nil {
		return nil, err
	}
	own := p.IsUser() && t.UserID == p.UserID && (t.Kind == KindLegacyKey || t.AccountID == p.AccountID)
	if !own {
		if t.Kind == KindLegacyKey || t.AccountID != p.AccountID {
			return nil, Errorf(ENotFound, "Token %d not found.", tokenID)
		}
		if err := authorize(p, t.AccountID, perm.ServiceTokens, perm.Read, 0); err != nil {
			return nil, err
		}
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(days - 1))
	stored, err := s.store.DailyUses(ctx, tokenID, since)
	if err != nil {
		return nil, err
	}
	counts := make(map[int64]int64, len(stored))
	for _, d := range stored {
		counts[d.Day.Unix()/secondsPerDay] += d.Count
	}
	for day, n := range s.usage.peekDaily(tokenID) {
		counts[day] += n
	}
	out := make([]DailyUse, days)
	for i := range out {
		day := since.AddDate(0, 0, i)
		out[i] = DailyUse{TokenID: tokenID, Day: day, Count: counts[day.Unix()/secondsPerDay]}
	}
	return out, nil
}

// retireRotated ends a rotated-out token: at once without an overlap, else when the overlap ends
// (never later than it would have expired anyway). The rotation is audited on the old token and
// its cached state dropped on every node.
func retireRotated(ctx context.Context, st *txn, p *Principal, old, fresh *Token, kind string, overlap time.Duration, now time.Time) error {
	if overlap == 0 {
		old.State = StateDeleted
	} else if end := now.Add(overlap); old.ExpiresAt.IsZero() || end.Before(old.ExpiresAt) {
		old.ExpiresAt = end
	}
	old.UpdatedAt = now
	if err := st.UpdateToken(ctx, old); err != nil {
		return err
	}
	e := event(ctx, p, old.AccountID, "token.rotate", kind, old.ID)
	e.Detail = map[string]string{"uid": old.UID, "new_uid": fresh.UID, "overlap": overlap.String()}
	st.audit(e)
	st.invalidate(Invalidation{TokenID: old.ID})
	return nil
}
