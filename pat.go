package tokend

import (
	"context"
	"strings"
	"time"
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
func errNeedsUserContext(userID UserID) *Error {
	return Errorf(EForbidden, "This endpoint needs user context: use a personal access token of user %d. "+
		"Service tokens, even with account_admin, cannot act as a user.", userID)
}

// checkUserContext admits only a PAT of userID in accountID: what a user's own credentials
// and tokens need. Nobody else, not even an account admin, acts as that user.
func checkUserContext(p *Principal, accountID AccountID, userID UserID) error {
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

// ListPATs lists a user's personal access tokens in an account, for that user only, narrowed
// and ordered by q (the zero TokenQuery: all of them, by id).
func (s *Service) ListPATs(ctx context.Context, p *Principal, accountID AccountID, userID UserID, state State, q TokenQuery, page Page) ([]*Token, int, error) {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return nil, 0, err
	}
	ts, total, err := s.store.ListTokens(ctx, q.narrow(TokenFilter{Kind: KindPAT, AccountID: accountID, UserID: userID,
		State: state, Page: page.Normalize()}, s.now()))
	if err != nil {
		return nil, 0, err
	}
	s.overlayUsage(ts)
	return ts, total, nil
}

// PAT returns one of a user's personal access tokens, for that user only.
func (s *Service) PAT(ctx context.Context, p *Principal, accountID AccountID, userID UserID, id TokenID) (*Token, error) {
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
func (s *Service) userPAT(ctx context.Context, st Store, accountID AccountID, userID UserID, id TokenID) (*Token, error) {
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
func (s *Service) CreatePAT(ctx context.Context, p *Principal, accountID AccountID, userID UserID, in PATInput) (*Token, string, error) {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return nil, "", err
	}
	return s.createPAT(ctx, accountID, userID, in, p.TokenUID)
}

// CreatePATWithPassword creates a user's first PAT without a token: the user signs in with
// e-mail and password (the request's address, from ctx, must pass the account's IP restrictions
// and the limit on password guesses). A wrong password of the member is audited.
func (s *Service) CreatePATWithPassword(ctx context.Context, accountID AccountID, userID UserID, email, pw string, in PATInput) (*Token, string, error) {
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

func (s *Service) createPAT(ctx context.Context, accountID AccountID, userID UserID, in PATInput, actorUID string) (*Token, string, error) {
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
func (s *Service) createPATIn(ctx context.Context, st *txn, accountID AccountID, userID UserID, in PATInput, actorUID string, detail map[string]string) (*Token, string, error) {
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
		return nil, "", Errorf(EForbidden, "This user has no valid license in this account, so cannot create personal access tokens; an account admin can give them one.")
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
func (s *Service) RotatePAT(ctx context.Context, p *Principal, accountID AccountID, userID UserID, id TokenID, overlap time.Duration) (*Token, string, error) {
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
		if err := st.MarkTokenRotated(ctx, accountID, old.ID, now); err != nil {
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
			return Errorf(EForbidden, "This user has no valid license in this account, so cannot create personal access tokens; an account admin can give them one.")
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
		succeed(acct, old, fresh, overlap)
		if raw, err = s.issue(ctx, st, fresh); err != nil {
			return err
		}
		if err := retireRotated(ctx, st, p, accountID, old, fresh, "pat", overlap, now); err != nil {
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
func (s *Service) DeletePAT(ctx context.Context, p *Principal, accountID AccountID, userID UserID, id TokenID) error {
	if err := checkUserContext(p, accountID, userID); err != nil {
		return err
	}
	return s.revoke(ctx, p, accountID, func(st Store) (*Token, error) {
		return s.userPAT(ctx, st, accountID, userID, id)
	})
}
