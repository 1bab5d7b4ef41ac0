package tokend

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"tokend/perm"
	"tokend/secret"
)

// ErrInvalidToken is the one answer to an unknown, revoked, expired or malformed token, so
// that a caller learns nothing about which it was.
var ErrInvalidToken = &Error{Code: EUnauthenticated, Message: "Invalid token."}

// ErrLegacyKeyRetired answers a legacy user API key outside a migration window, when the key is
// not one tokend knows (so whose it is cannot be said). A known key gets legacyRetired, which
// names the caller's own account and user ids in the path to create a PAT.
var ErrLegacyKeyRetired = legacyRetired(0, nil)

// legacyRetired is the refusal of user userID's legacy key, naming the path that creates a PAT
// in each of accountIDs (at most a few; placeholders when unknown).
func legacyRetired(userID UserID, accountIDs []AccountID) *Error {
	user := "{user_id}"
	if userID != 0 {
		user = strconv.FormatInt(int64(userID), 10)
	}
	accounts := []string{"{account_id}"}
	if len(accountIDs) > 0 {
		accounts = accounts[:0]
		for _, a := range accountIDs[:min(len(accountIDs), 5)] {
			accounts = append(accounts, strconv.FormatInt(int64(a), 10))
		}
	}
	paths := make([]string, len(accounts))
	for i, a := range accounts {
		paths[i] = "POST /api/v3/accounts/" + a + "/users/" + user + "/account-apikeys/"
	}
	return &Error{Code: EUnauthenticated, Message: "User API keys are deprecated and no longer work. " +
		"Create a personal access token in Account Settings → API tokens → Personal tokens (or " +
		strings.Join(paths, ", or ") + ") and send it as \"Authorization: Bearer <token>\"."}
}

// Authenticate verifies a token string for a request from ip and returns its principal. A
// malformed token or one with a bad checksum is refused without touching the database; a valid
// one is served from the cache (keyed by hash) after its first use. ip is recorded as the
// token's last-used address, and the account's IP restrictions are applied to it: this is the
// one way in for every token, whichever door it comes through.
//
// A token that verifies is never refused for other callers' failures. Failures count against
// ip: once it has used them up they are answered 429, and the costly work of a failure (a slow
// hash, an audit row) is no longer done for it.
func (s *Service) Authenticate(ctx context.Context, raw, ip string) (*Principal, error) {
	now := s.now()
	p, pol, cached, err := s.authenticateAt(ctx, raw, ip, true, now)
	switch {
	case err != nil:
		if ErrorCode(err) == EUnauthenticated {
			s.stats.refused.Add(1)
		}
		err = s.tokenFailed(ip, err)
		s.stats.outcome("", err)
		return nil, err
	case cached:
		s.stats.cached.Add(1)
	default:
		s.stats.stored.Add(1)
	}
	// The account's IP restrictions: the policy came with the principal when it was known,
	// else it is read now.
	if pol != nil {
		err = pol.check(p, ip)
	} else {
		err = s.checkIPAt(ctx, p, ip, now)
	}
	if err != nil {
		s.stats.outcome(p.Kind, err)
		return nil, err
	}
	s.stats.outcome(p.Kind, nil)
	return p, nil
}

// authenticate is Authenticate, also telling whether the cache answered. With record false it
// only looks: no last use, no daily count, no audit event and no hash upgrade, so that a
// caller looking at someone else's token (introspection) changes nothing about it.
func (s *Service) authenticate(ctx context.Context, raw, ip string, record bool) (*Principal, bool, error) {
	p, _, cached, err := s.authenticateAt(ctx, raw, ip, record, s.now())
	return p, cached, err
}

// authenticateAt verifies raw at now. With the principal comes its account's compiled IP
// policy when it is known (nil: the caller reads it, see checkIPAt).
func (s *Service) authenticateAt(ctx context.Context, raw, ip string, record bool, now time.Time) (*Principal, *ipPolicy, bool, error) {
	parsed, err := secret.Parse(raw)
	if err != nil {
		return nil, nil, false, ErrInvalidToken
	}
	hash := secret.Hash(raw)
	if !s.trusted(now) {
		// The change feed has not been read for too long, so the caches do not answer: the
		// store does, or nothing does, within a bound rather than whenever a silent link
		// gives up.
		rctx, cancel := context.WithTimeoutCause(ctx, s.opts.FeedPollInterval, errReadThrough)
		defer cancel()
		if !s.awaitTrust(rctx) {
			p, pol, err := s.verifyStored(rctx, raw, ip, parsed, &hash, now, record)
			if err != nil && ctx.Err() == nil && errors.Is(context.Cause(rctx), errReadThrough) {
				err = ErrStoreUnreachable
			}
			return p, pol, false, err
		}
		now = s.now()
	}
	if nowNS := now.UnixNano(); s.trustedAt(nowNS) {
		// A cached token that has stopped (expired, past the account's maximum lifetime, rotated
		// out) is past its entry's deadline, so the store's path refuses it and says why in
		// the audit log: a rotated-out token used again is a reuse worth recording.
		if p, pol, ok := s.cache.get(&hash, nowNS); ok {
			if record {
				s.usage.record(p.TokenID, now, ip)
				s.noteAddress(p, ip, now)
			}
			if p.Kind == KindLegacyKey && !now.Before(p.LegacyWindowEnd()) {
				return nil, nil, false, p.legacyRefusal()
			}
			return p, pol, true, nil
		}
		if parsed.Format == secret.Current && s.neverIssued(ctx, raw, parsed.Tagged, &hash, now) {
			s.stats.never.Add(1)
			return nil, nil, false, ErrInvalidToken
		}
	}
	p, pol, err := s.verifyStored(ctx, raw, ip, parsed, &hash, now, record)
	return p, pol, false, err
}

// awaitTrust waits, for half of ctx's time at most, for a read of the change feed that lets
// the caches answer again, and reports whether they do. The read is shared by every request
// that finds the node untrusted meanwhile. Each of them reading the store instead would load
// it most when it is slow (a slow store is the usual reason a read of the feed comes late),
// the feed's own read among them; the other half of the time is left to the store, so that a
// node whose feed reads fail while other reads pass keeps serving.
func (s *Service) awaitTrust(ctx context.Context) bool {
	// Before its first read of the feed a node has nothing cached to answer from: the store
	// answers, with all the time there is.
	if !s.feedSync.running.Load() || s.trustUntil.Load() == 0 {
		return false
	}
	d := s.opts.FeedPollInterval / 2
	if dl, ok := ctx.Deadline(); ok {
		d = time.Until(dl) / 2
	}
	return s.feedSync.waitRead(ctx, d) && s.trusted(s.now())
}

// ErrStoreUnreachable answers a verification that neither the caches (the change feed is not
// readable) nor the store (it does not answer in time) can decide.
var ErrStoreUnreachable = &Error{Code: EUnavailable, Message: "Tokens cannot be verified right now; try again shortly.", RetryAfter: RetryUnavailable}

// errReadThrough is the cause of a read-through that ran out of time.
var errReadThrough = errors.New("tokend: store read-through timed out")

// verifyStored verifies a token against the store and caches its principal, with its
// account's IP policy when record (a request's verification, which checks it next).
func (s *Service) verifyStored(ctx context.Context, raw, ip string, parsed secret.Parsed, hash *[32]byte, now time.Time, record bool) (*Principal, *ipPolicy, error) {
	gen := s.cache.generation()
	// The store may keep the slice it is given, which moves its array to the heap: hand it a
	// copy, so that hash stays on the stack and the cached path in authenticate allocates nothing.
	key := *hash
	t, access, err := s.lookup(ctx, raw, key[:], parsed, ip, record)
	if err != nil {
		if parsed.Kind == secret.LegacyKey && err == ErrInvalidToken {
			// Whatever the key, the answer to a legacy key is how to move off it.
			return nil, nil, ErrLegacyKeyRetired
		}
		return nil, nil, err
	}
	if t.Kind != kindOf(parsed.Kind) {
		return nil, nil, ErrInvalidToken
	}
	if t.Kind == KindLegacyKey {
		p, err := s.authenticateLegacy(ctx, t, hash, gen, now, ip, record)
		return p, nil, err
	}
	if t.State != StateActive || t.Expired(now) {
		if s.failuresBlocked(ip) {
			return nil, nil, ErrInvalidToken // over its failures: not worth an audit row
		}
		// A real token that no longer works: worth a line in the account's audit log.
		reason, action := "deleted", "token.refused"
		if t.State == StateActive {
			reason = "expired"
		}
		if !t.RotatedAt.IsZero() {
			// A rotated-out token used after its overlap: a reuse, the sign of a copy left
			// behind or stolen, recorded as its own event.
			reason, action = "reused", "token.reused"
		}
		switch {
		case !record:
		case action == "token.reused":
			s.reused(ctx, t) // and, if the account says so, revoke its rotation chain
		default:
			e := event(ctx, nil, t.AccountID, action, string(t.Kind), t.ID)
			e.ActorUserID, e.ActorToken = t.UserID, t.UID
			e.Detail = map[string]string{"uid": t.UID, "reason": reason}
			s.audit(ctx, e)
		}
		return nil, nil, ErrInvalidToken
	}
	p, err := s.principalFor(ctx, t, access)
	if err != nil {
		return nil, nil, err
	}
	// The account's policies: past its maximum lifetime (blocked, not deleted, so that
	// loosening the policy brings it back), disabled, or unused for too long.
	if reason, err := s.policyRefusal(ctx, t, p, now); err != nil || reason != "" {
		if err != nil {
			return nil, nil, err
		}
		if record {
			e := event(ctx, nil, t.AccountID, "token.refused", string(t.Kind), t.ID)
			e.ActorUserID, e.ActorToken = t.UserID, t.UID
			e.Detail = map[string]string{"uid": t.UID, "reason": reason}
			s.audit(ctx, e)
		}
		return nil, nil, ErrInvalidToken
	}
	// The account's IP policy, cached with the principal so that the cached path checks it
	// without another lookup. When it cannot be read, the principal is cached without it and
	// the caller's IP check reads it again, and answers the failure.
	var pol *ipPolicy
	var polAt time.Time
	if record && p.AccountID != 0 {
		if pol, polAt, err = s.policyRead(ctx, p.AccountID, now); err != nil {
			pol = nil
		}
	}
	s.remember(hash, p, pol, polAt, gen, now)
	if record {
		s.usage.record(p.TokenID, now, ip)
		s.noteAddress(p, ip, now)
	}
	return p, pol, nil
}

// authenticateLegacy builds and caches a verified legacy key's principal (so that the slow
// hash is paid once, not per request); outside every migration window it is refused.
func (s *Service) authenticateLegacy(ctx context.Context, t *Token, hash *[32]byte, gen uint64, now time.Time, ip string, record bool) (*Principal, error) {
	if t.State != StateActive {
		return nil, ErrLegacyKeyRetired
	}
	p, err := s.legacyPrincipal(ctx, t)
	if err != nil {
		return nil, err
	}
	s.remember(hash, p, nil, time.Time{}, gen, now)
	if record {
		s.usage.record(p.TokenID, now, ip)
	}
	if !now.Before(p.LegacyWindowEnd()) {
		return nil, p.legacyRefusal()
	}
	return p, nil
}

// lookup finds the stored token for raw: by SHA-256 first, then, for old-format tokens and
// legacy keys not yet upgraded, by uid and the slow hash, within the slow-hash limits for the
// uid and for ip. With upgrade, an old-format token's first successful use moves it to the fast
// hash. A token found by hash comes with what verifying it needs (Store.TokenForVerify).
func (s *Service) lookup(ctx context.Context, raw string, hash []byte, parsed secret.Parsed, ip string, upgrade bool) (*Token, *MemberAccess, error) {
	t, access, err := s.store.TokenForVerify(ctx, hash)
	if err == nil {
		return t, access, nil
	}
	if !isNotFound(err) {
		return nil, nil, err
	}
	if parsed.Format != secret.OldFormat {
		return nil, nil, ErrInvalidToken
	}
	t, err = s.store.TokenByUIDUnscoped(ctx, parsed.UID)
	if isNotFound(err) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, err
	}
	if t.SlowHash == "" {
		return nil, nil, ErrInvalidToken
	}
	ok, err := s.slowHash(t.UID, ip, func() (bool, error) { return secret.VerifySlow(raw, t.SlowHash) })
	if ErrorCode(err) == ERateLimited {
		return nil, nil, err
	}
	if err != nil {
		s.log.Error("stored slow hash unreadable", "token_uid", t.UID, "err", err)
		return nil, nil, ErrInvalidToken
	}
	if !ok {
		return nil, nil, ErrInvalidToken
	}
	if upgrade && t.Kind != KindLegacyKey && t.State == StateActive {
		// First successful use of an old-format token: from now on it takes the fast path.
		t.Hash = hash
		t.SlowHash = ""
		t.UpdatedAt = s.now()
		// The token proved itself by its secret: the write is in its own account.
		if err := s.change(ctx, func(st *txn) error { return st.UpdateToken(ctx, t.AccountID, t) }); err != nil {
			s.log.Error("upgrade old-format token hash", "token_uid", t.UID, "err", err)
		}
	}
	return t, nil, nil
}

func kindOf(k secret.Kind) TokenKind {
	switch k {
	case secret.PAT:
		return KindPAT
	case secret.Service:
		return KindService
	case secret.LegacyKey:
		return KindLegacyKey
	case secret.SCIM:
		return KindSCIM
	}
	return ""
}

// principalFor builds what a token may do from the current rows: a PAT from its user's
// license and groups in its account, a service token from its own grants, a SCIM token
// nothing but SCIM. access, when the store read it with the token, saves reading the
// membership and groups again.
func (s *Service) principalFor(ctx context.Context, t *Token, access *MemberAccess) (*Principal, error) {
	acct, err := s.account(ctx, t.AccountID)
	if isNotFound(err) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if acct.State != StateActive {
		return nil, ErrInvalidToken
	}
	p := &Principal{
		Kind:      t.Kind.canonical(),
		TokenID:   t.ID,
		TokenUID:  t.UID,
		AccountID: t.AccountID,
		Plan:      acct.Plan,
		ExpiresAt: t.ExpiresAt,
	}
	until := t.ExpiresAt
	// An account's maximum PAT lifetime holds for existing PATs too, from their creation.
	if t.Kind == KindPAT && acct.PATMaxLifetime > 0 {
		if end := t.CreatedAt.Add(acct.PATMaxLifetime); until.IsZero() || end.Before(until) {
			until = end
		}
	}
	p.until = unixNanos(until)
	switch t.Kind {
	case KindPAT:
		var license perm.License
		var perms perm.Evaluated
		if access != nil {
			license, perms, err = access.perms()
		} else {
			license, perms, err = s.memberPerms(ctx, t.AccountID, t.UserID)
		}
		if err != nil {
			return nil, err
		}
		p.UserID, p.License, p.rights = t.UserID, license.Interned(), s.rights.get(perms)
	case KindService:
		p.rights = s.rights.get(perm.Evaluate(t.Grants()))
	case KindSCIM:
		// No capabilities: a SCIM token passes no authorize check. The SCIM endpoints check
		// for it by kind and account (authorizeSCIM).
		p.rights = s.rights.get(perm.Evaluated{})
	default:
		return nil, ErrInvalidToken
	}
	return p, nil
}

// SessionPrincipal is what a signed-in console user may do in one account: exactly what a
// PAT of theirs would, built from the current rows on every call (the console is not the hot
// path). A user who is not an active member of the account gets ErrInvalidToken; a request
// (its address rides in ctx) that the account's IP restrictions block gets their refusal.
func (s *Service) SessionPrincipal(ctx context.Context, userID UserID, accountID AccountID) (*Principal, error) {
	acct, err := s.account(ctx, accountID)
	if isNotFound(err) || (err == nil && acct.State != StateActive) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	license, perms, err := s.memberPerms(ctx, accountID, userID)
	if err != nil {
		return nil, err
	}
	p := &Principal{Kind: KindSession, AccountID: accountID, UserID: userID, Plan: acct.Plan,
		License: license, rights: &rights{perms: perms}}
	// The account's IP restrictions apply to the console as to its tokens.
	if err := s.CheckIP(ctx, p, RequestMetaFrom(ctx).IP); err != nil {
		return nil, err
	}
	return p, nil
}

// perms is what the member may do: their license over their groups' grants. A user who is
// not an active member holds nothing (ErrInvalidToken).
func (a *MemberAccess) perms() (perm.License, perm.Evaluated, error) {
	if !a.Member || a.State != StateActive {
		return "", perm.Evaluated{}, ErrInvalidToken
	}
	return a.License, perm.Evaluate(a.Grants).Apply(a.License), nil
}

// memberPerms is what a user may do in an account now: their license over their groups'
// grants. A user who is not an active member holds nothing (ErrInvalidToken).
func (s *Service) memberPerms(ctx context.Context, accountID AccountID, userID UserID) (perm.License, perm.Evaluated, error) {
	m, err := s.store.Membership(ctx, accountID, userID)
	if isNotFound(err) || (err == nil && m.State != StateActive) {
		return "", perm.Evaluated{}, ErrInvalidToken
	}
	if err != nil {
		return "", perm.Evaluated{}, err
	}
	groups, err := s.store.GroupsOfUser(ctx, accountID, userID)
	if err != nil {
		return "", perm.Evaluated{}, err
	}
	var grants []perm.Grant
	for _, g := range groups {
		grants = append(grants, g.Grants()...)
	}
	return m.License, perm.Evaluate(grants).Apply(m.License), nil
}
