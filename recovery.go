package tokend

import (
	"context"
	"crypto/sha256"
	"strconv"
	"time"

	"tokend/password"
	"tokend/perm"
)

// Account recovery: a signed-in user changes their password; an account admin issues a
// one-time reset link (there is no mail server: the admin hands it over); an operator sets a
// password directly in the database. Each ends the user's console sessions (all but the one
// making the change), because a password change is what a user does when they fear someone
// else is signed in. Tokens are not touched: they are revoked one by one, or in bulk.

// PasswordReset is a one-time link to set a user's password. Its secret is never stored.
type PasswordReset struct {
	ID        int64
	Hash      []byte // SHA-256 of the secret
	UserID    UserID
	AccountID AccountID // the account whose admin issued it
	CreatedBy UserID    // the admin's user id
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero: not used
}

// Reset link lifetimes: the default, and the longest an admin may choose.
const (
	PasswordResetLifetime    = 24 * time.Hour
	MaxPasswordResetLifetime = 7 * 24 * time.Hour
)

// PasswordResetPath is the console page a reset link opens; the secret follows in the
// fragment, which browsers never send to a server (so it reaches no log).
const PasswordResetPath = "/password-reset"

// ErrBadResetLink answers an unknown, used or expired reset link alike.
var ErrBadResetLink = &Error{Code: EInvalid, Field: "code",
	Message: "This password reset link is not valid: it was used already, has expired or was replaced. Ask an account admin for a new one."}

// ChangePassword sets the principal's own password after checking the current one, and ends
// their other console sessions (keepSession, when not zero, is the one making the change).
func (s *Service) ChangePassword(ctx context.Context, p *Principal, userID UserID, current, next string, keepSession SessionID) error {
	if p == nil || !p.IsUser() || p.UserID != userID {
		return Errorf(EForbidden, "You can change only your own password, with a personal access token or the console.")
	}
	if current == "" {
		return Invalidf("current_password", "Give your current password.")
	}
	if err := checkNewPassword("new_password", next); err != nil {
		return err
	}
	// Wrong current passwords count against the user, whatever the address: a stolen token
	// must not become a way to guess the password.
	key := "user:" + strconv.FormatInt(int64(userID), 10)
	if wait := s.limits.guesses.Wait(key, s.now()); wait > 0 {
		return limited(errTooManyGuesses, wait)
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return err
	}
	if len(current) > maxPasswordLength || u.PasswordHash == "" || password.Verify(current, u.PasswordHash) != nil {
		s.limits.guesses.Fail(key, s.now())
		return &Error{Code: EInvalid, Field: "current_password", Message: "The current password is not right."}
	}
	if current == next {
		return Invalidf("new_password", "The new password is the same as the current one.")
	}
	return s.setPassword(ctx, u.ID, next, keepSession, func(tx *txn, ended int) error {
		return s.auditInAccounts(ctx, tx, u.ID, func(accountID AccountID) *AuditEvent {
			e := event(ctx, p, accountID, "user.password_change", "user", u.ID)
			e.Detail = map[string]string{"sessions_ended": strconv.Itoa(ended)}
			return e
		})
	})
}

// SetPassword is the operator's: it sets the password of the user with the e-mail, ends all
// their console sessions and voids their reset links. There is no principal.
func (s *Service) SetPassword(ctx context.Context, email, pw string) (*User, error) {
	addr, err := parseEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkNewPassword("password", pw); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, addr)
	if isNotFound(err) {
		return nil, Errorf(ENotFound, "No user has the e-mail %s.", addr)
	}
	if err != nil {
		return nil, err
	}
	err = s.setPassword(ctx, u.ID, pw, 0, func(tx *txn, ended int) error {
		return s.auditInAccounts(ctx, tx, u.ID, func(accountID AccountID) *AuditEvent {
			return &AuditEvent{AccountID: accountID, Action: "user.password_set_by_operator", TargetType: "user",
				TargetID: int64(u.ID), Detail: map[string]string{"sessions_ended": strconv.Itoa(ended)}}
		})
	})
	return u, err
}

// CreatePasswordReset issues a one-time link for a member of the account to set a new
// password, and returns the link's secret (shown once) and the link. It needs write access to
// users, and the principal must hold every grant the user holds there: a reset link is a way
// into the user's account. A user who belongs to other accounts too is refused — an admin of
// one account must not take over a person's access to another — and so is the principal
// themselves (they change their password instead).
func (s *Service) CreatePasswordReset(ctx context.Context, p *Principal, accountID AccountID, userID UserID, lifetime time.Duration) (*PasswordReset, string, error) {
	if err := authorize(p, accountID, perm.Users, perm.Write, 0); err != nil {
		return nil, "", err
	}
	if lifetime == 0 {
		lifetime = PasswordResetLifetime
	}
	if lifetime < time.Minute || lifetime > MaxPasswordResetLifetime {
		return nil, "", Invalidf("expires_in", "A reset link lasts from 1 minute to %d hours, got %s.",
			int(MaxPasswordResetLifetime.Hours()), lifetime)
	}
	if p.IsUser() && p.UserID == userID {
		return nil, "", Invalidf("user_id", "To change your own password, use change password (the current one is needed).")
	}
	m, err := s.store.Membership(ctx, accountID, userID)
	if isNotFound(err) || (err == nil && m.State != StateActive) {
		return nil, "", Errorf(ENotFound, "User %d is not a member of this account.", userID)
	}
	if err != nil {
		return nil, "", err
	}
	others, err := s.store.MembershipsOfUser(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	for _, o := range others {
		if o.AccountID != accountID && o.State == StateActive {
			return nil, "", Errorf(EForbidden, "This user also belongs to other accounts, so only an operator can set their password (tokend user set-password).")
		}
	}
	groups, err := s.store.GroupsOfUser(ctx, accountID, userID)
	if err != nil {
		return nil, "", err
	}
	for _, g := range groups {
		for _, gr := range g.Grants() {
			if !p.Covers(gr) {
				return nil, "", Errorf(EForbidden, "You cannot issue a reset link for this user: they hold %s (%s) through group %q, which you do not hold yourself.",
					gr.Set.Label(), gr.Set, g.Name)
			}
		}
	}
	raw, err := randomID(s.rand)
	if err != nil {
		return nil, "", err
	}
	h := sha256.Sum256([]byte(raw))
	now := s.now()
	r := &PasswordReset{Hash: h[:], UserID: userID, AccountID: accountID, CreatedBy: p.UserID,
		CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	err = s.change(ctx, func(tx *txn) error {
		// One link at a time: a new one voids the ones before.
		if _, err := tx.DeletePasswordResets(ctx, userID); err != nil {
			return err
		}
		if err := tx.CreatePasswordReset(ctx, r); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "user.password_reset_link", "user", userID)
		e.Detail = map[string]string{"expires_at": r.ExpiresAt.UTC().Format(time.RFC3339)}
		tx.audit(e)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return r, raw, nil
}

// ResetPassword redeems a reset link: it sets the new password, marks the link used and ends
// every console session of the user. Wrong codes count against the caller's address (from
// ctx) as failed tokens do.
func (s *Service) ResetPassword(ctx context.Context, code, next string) (*User, error) {
	ip := RequestMetaFrom(ctx).IP
	if wait := s.limits.tokenFailures.Wait(ip, s.now()); wait > 0 {
		return nil, limited(errTooManyTokenFailures, wait)
	}
	u, err := s.resetPassword(ctx, code, next)
	if err == ErrBadResetLink {
		s.limits.tokenFailures.Fail(ip, s.now())
	}
	return u, err
}

func (s *Service) resetPassword(ctx context.Context, code, next string) (*User, error) {
	if err := checkNewPassword("new_password", next); err != nil {
		return nil, err
	}
	r, err := s.resetLink(ctx, code)
	if err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, r.UserID)
	if err != nil {
		return nil, err
	}
	if u.State != StateActive {
		return nil, ErrBadResetLink
	}
	err = s.setPassword(ctx, u.ID, next, 0, func(tx *txn, ended int) error {
		if err := tx.UsePasswordReset(ctx, r.ID, s.now()); isNotFound(err) {
			return ErrBadResetLink // redeemed meanwhile
		} else if err != nil {
			return err
		}
		m := RequestMetaFrom(ctx)
		tx.audit(&AuditEvent{AccountID: r.AccountID, ActorUserID: u.ID, Action: "user.password_reset",
			TargetType: "user", TargetID: int64(u.ID), IP: m.IP, UserAgent: m.UserAgent,
			Detail: map[string]string{"sessions_ended": strconv.Itoa(ended), "issued_by": strconv.FormatInt(int64(r.CreatedBy), 10)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CheckResetLink reports whether code is a live reset link, and for whom, so that the console
// can say so before asking for a password.
func (s *Service) CheckResetLink(ctx context.Context, code string) (*User, error) {
	r, err := s.resetLink(ctx, code)
	if err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, r.UserID)
	if err != nil || u.State != StateActive {
		return nil, ErrBadResetLink
	}
	return u, nil
}

func (s *Service) resetLink(ctx context.Context, code string) (*PasswordReset, error) {
	hash, ok := sessionHash(code) // same shape as a session id: 256 bits, base64url
	if !ok {
		return nil, ErrBadResetLink
	}
	r, err := s.store.PasswordResetByHash(ctx, hash)
	if isNotFound(err) {
		return nil, ErrBadResetLink
	}
	if err != nil {
		return nil, err
	}
	if !r.UsedAt.IsZero() || !s.now().Before(r.ExpiresAt) {
		return nil, ErrBadResetLink
	}
	return r, nil
}

// setPassword hashes pw (before the transaction: argon2id is slow on purpose), then in one
// change writes it, ends the user's sessions but keep, voids their reset links and lets audit
// record the change.
func (s *Service) setPassword(ctx context.Context, userID UserID, pw string, keep SessionID, audit func(tx *txn, sessionsEnded int) error) error {
	hash, err := password.Hash(s.rand, pw, s.opts.PasswordParams)
	if err != nil {
		return err
	}
	return s.change(ctx, func(tx *txn) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		u.PasswordHash, u.UpdatedAt = hash, s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		ended, err := tx.DeleteUserSessions(ctx, userID, keep)
		if err != nil {
			return err
		}
		if err := audit(tx, ended); err != nil {
			return err
		}
		_, err = tx.DeletePasswordResets(ctx, userID)
		return err
	})
}

// auditInAccounts records an event in every active account of the user (each account's admins
// see what happens to the people who can act in it), or outside any account when there is none.
func (s *Service) auditInAccounts(ctx context.Context, tx *txn, userID UserID, ev func(accountID AccountID) *AuditEvent) error {
	accts, err := tx.AccountsOfUser(ctx, userID)
	if err != nil {
		return err
	}
	if len(accts) == 0 {
		tx.audit(ev(0))
	}
	for _, a := range accts {
		tx.audit(ev(a.ID))
	}
	return nil
}

func checkNewPassword(field, pw string) error {
	if len(pw) < password.MinLength {
		return Invalidf(field, "The password must be at least %d characters.", password.MinLength)
	}
	if len(pw) > maxPasswordLength {
		return Invalidf(field, "The password must be at most %d characters.", maxPasswordLength)
	}
	return nil
}
