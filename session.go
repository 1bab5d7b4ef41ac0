package tokend

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strconv"
	"time"

	"tokend/password"
)

// Console sessions are server-side: the browser holds a random 256-bit id, the store holds only
// its SHA-256, so that signing out (or an expiry) ends the session on every node at once and a
// copy of the database holds no usable session.

// Session lifetimes: a session ends after SessionIdleTimeout without a request, and in any case
// SessionMaxLifetime after sign-in.
const (
	SessionIdleTimeout = 12 * time.Hour
	SessionMaxLifetime = 7 * 24 * time.Hour
)

// sessionTouchEvery bounds how often a session's last-seen time is written: once a minute is
// precise enough for a 12-hour idle timeout and keeps page views from writing on every request.
const sessionTouchEvery = time.Minute

// Session is a signed-in web-console user. The session id itself is never stored.
type Session struct {
	ID     SessionID
	Hash   []byte // SHA-256 of the session id
	UserID UserID
	// AccountID is the account the console acts in, chosen with the account switcher; zero
	// when the user had no account at sign-in.
	AccountID AccountID
	// CSRFSecret keys the anti-forgery tokens of the session's forms.
	CSRFSecret []byte
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end: CreatedAt + SessionMaxLifetime
}

// ErrNoSession answers a missing, unknown, expired or signed-out session.
var ErrNoSession = &Error{Code: EUnauthenticated, Message: "Your session has ended. Sign in again."}

// sessionIDBytes is the session id's length: 256 bits from crypto/rand.
const sessionIDBytes = 32

// sessionHash returns the stored form of a raw session id, or false when raw cannot be one.
func sessionHash(raw string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != sessionIDBytes {
		return nil, false
	}
	h := sha256.Sum256([]byte(raw))
	return h[:], true
}

// SignIn checks an e-mail and password and starts a console session; the raw session id is
// returned this once, for the cookie. Unknown users take as long as wrong passwords; guesses
// are limited per address and e-mail (checkPassword). The session starts in the first of the
// user's accounts whose IP restrictions let ip in; when none does, there is no session. Every
// attempt is audited in each account of the user it names.
func (s *Service) SignIn(ctx context.Context, email, pw, ip, userAgent string) (*Session, string, error) {
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	u, err := s.checkPassword(ctx, email, pw, ip)
	if err != nil {
		// Recorded only in the accounts of the user the e-mail names, with nothing the caller
		// typed: an unknown e-mail (or a password typed as one) is not stored anywhere.
		if u != nil && err == ErrBadCredentials {
			for _, e := range s.signInEvents(ctx, u.ID, "console.sign_in_refused", nil, ip, "") {
				s.audit(ctx, e)
			}
		}
		return nil, "", err
	}

	raw, err := randomID(s.rand)
	if err != nil {
		return nil, "", err
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, secret); err != nil {
		return nil, "", err
	}
	accts, err := s.store.AccountsOfUser(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	hash, _ := sessionHash(raw)
	sess := &Session{Hash: hash, UserID: u.ID, CSRFSecret: secret, IP: ip, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxLifetime)}
	// IP restrictions are part of signing in: start in an account that lets ip in.
	var ipErr error
	for _, a := range accts {
		err := s.CheckIP(ctx, &Principal{Kind: KindSession, AccountID: a.ID, UserID: u.ID}, ip)
		if err == nil {
			sess.AccountID = a.ID
			break
		}
		if ipErr == nil {
			ipErr = err
		}
	}
	if sess.AccountID == 0 && ipErr != nil {
		return nil, "", ipErr
	}
	err = s.change(ctx, func(st *txn) error {
		for _, e := range s.signInEvents(ctx, u.ID, "console.sign_in", map[string]string{"email": u.Email}, ip, userAgent) {
			st.audit(e)
		}
		return st.CreateSession(ctx, sess)
	})
	if err != nil {
		return nil, "", err
	}
	// Sweep here rather than on a timer: sign-ins are rare, and expired rows are refused anyway.
	if _, err := s.store.DeleteExpiredSessions(ctx, now, now.Add(-SessionIdleTimeout)); err != nil {
		s.log.Warn("sweep expired console sessions", "err", err)
	}
	return sess, raw, nil
}

// signInEvents returns a sign-in event for every active account of the user (each account's
// administrators see who signs in to a console that can act on it); an unknown e-mail is
// recorded outside any account.
func (s *Service) signInEvents(ctx context.Context, userID UserID, action string, detail map[string]string, ip, ua string) []*AuditEvent {
	var accountIDs []AccountID
	if userID != 0 {
		accts, err := s.store.AccountsOfUser(ctx, userID)
		if err != nil {
			s.log.Error("audit sign-in: accounts of user", "err", err)
		}
		for _, a := range accts {
			accountIDs = append(accountIDs, a.ID)
		}
	}
	if len(accountIDs) == 0 {
		accountIDs = []AccountID{0}
	}
	events := make([]*AuditEvent, len(accountIDs))
	for i, id := range accountIDs {
		events[i] = &AuditEvent{AccountID: id, ActorUserID: userID, Action: action, TargetType: "user",
			TargetID: int64(userID), Detail: detail, IP: ip, UserAgent: ua}
	}
	return events
}

// randomID returns a fresh session id: 256 bits, base64url without padding.
func randomID(r io.Reader) (string, error) {
	b := make([]byte, sessionIDBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Session returns the live session whose id is raw and its user. An unknown, expired or idle
// session, or one whose user is no longer active, is ErrNoSession; the session row is read on
// every call, so a sign-out on one node is seen by all.
func (s *Service) Session(ctx context.Context, raw string) (*Session, *User, error) {
	hash, ok := sessionHash(raw)
	if !ok {
		return nil, nil, ErrNoSession
	}
	sess, err := s.store.SessionByHash(ctx, hash)
	if isNotFound(err) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(SessionIdleTimeout)) {
		if err := s.store.DeleteSession(ctx, sess.ID); err != nil {
			s.log.Warn("delete expired console session", "err", err)
		}
		return nil, nil, ErrNoSession
	}
	u, err := s.store.User(ctx, sess.UserID)
	if isNotFound(err) || (err == nil && u.State != StateActive) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		sess.LastSeenAt = now
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			s.log.Warn("touch console session", "err", err)
		}
	}
	return sess, u, nil
}

// SessionAccounts returns the active accounts the session's user is an active member of: the
// choices of the account switcher.
func (s *Service) SessionAccounts(ctx context.Context, sess *Session) ([]*Account, error) {
	if sess == nil {
		return nil, ErrNoSession
	}
	return s.store.AccountsOfUser(ctx, sess.UserID)
}

// SetSessionAccount switches the session to another account of its user.
func (s *Service) SetSessionAccount(ctx context.Context, sess *Session, accountID AccountID) error {
	if sess == nil {
		return ErrNoSession
	}
	if _, err := s.SessionPrincipal(ctx, sess.UserID, accountID); err != nil {
		if ErrorCode(err) == EUnauthenticated {
			return Errorf(ENotFound, "You are not a member of account %d.", accountID)
		}
		return err
	}
	if sess.AccountID == accountID {
		return nil
	}
	from := sess.AccountID
	m := RequestMetaFrom(ctx)
	err := s.change(ctx, func(st *txn) error {
		st.audit(&AuditEvent{AccountID: accountID, ActorUserID: sess.UserID, Action: "console.switch_account",
			TargetType: "account", TargetID: int64(accountID), Detail: map[string]string{"from_account_id": strconv.FormatInt(int64(from), 10)},
			IP: m.IP, UserAgent: m.UserAgent})
		return st.SetSessionAccount(ctx, sess.ID, accountID)
	})
	if err != nil {
		return err
	}
	sess.AccountID = accountID
	return nil
}

// SignOut ends the session whose id is raw, on every node. Signing out of a session that has
// already ended is not an error.
func (s *Service) SignOut(ctx context.Context, raw string) error {
	hash, ok := sessionHash(raw)
	if !ok {
		return nil
	}
	sess, err := s.store.SessionByHash(ctx, hash)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	m := RequestMetaFrom(ctx)
	return s.change(ctx, func(st *txn) error {
		st.audit(&AuditEvent{AccountID: sess.AccountID, ActorUserID: sess.UserID, Action: "console.sign_out",
			TargetType: "user", TargetID: int64(sess.UserID), IP: m.IP, UserAgent: m.UserAgent})
		return st.DeleteSession(ctx, sess.ID)
	})
}

// checkPassword finds the user an e-mail names and checks their password, within the limit on
// password guesses (per address and e-mail together, and per address): one limit for every way
// a password is checked. Unknown users take as long as wrong passwords. The user is returned
// with ErrBadCredentials when the e-mail named one.
func (s *Service) checkPassword(ctx context.Context, email, pw, ip string) (*User, error) {
	key := NormalizeEmail(email)
	if err := s.checkGuesses(ip, key); err != nil {
		return nil, err
	}
	u, err := s.userByTypedEmail(ctx, email)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	ok := err == nil && u.State == StateActive && u.PasswordHash != "" && len(pw) <= maxPasswordLength
	if ok {
		ok = password.Verify(pw, u.PasswordHash) == nil
	} else {
		// Spend the same time on an unknown user as on a wrong password.
		_ = password.Verify(pw, s.dummyHash())
	}
	if !ok {
		s.guessFailed(ip, key)
		if err != nil {
			u = nil
		}
		return u, ErrBadCredentials
	}
	return u, nil
}

// dummyHash is a valid hash of nothing anyone knows, for constant-time refusals.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = password.Hash(s.rand, "tokend: no such user", s.opts.PasswordParams)
	})
	return s.dummy
}
