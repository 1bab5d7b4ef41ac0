package tokend

import (
	"context"
	"strconv"
	"time"

	"tokend/perm"
)

// The bounds of an account's inactivity setting, in days (0 turns it off).
const (
	MinInactivityDays = 30
	MaxInactivityDays = 365
)

// lastActive is the latest of a token's last use (flushed, or still in this node's memory),
// its creation and its re-enabling: where its inactivity clock starts.
func (s *Service) lastActive(t *Token) time.Time {
	at := t.CreatedAt
	if t.LastUsedAt.After(at) {
		at = t.LastUsedAt
	}
	if t.EnabledAt.After(at) {
		at = t.EnabledAt
	}
	if use, ok := s.usage.peek(t.ID); ok && use.At.After(at) {
		at = use.At
	}
	return at
}

// inactive reports whether t has gone unused for longer than acct allows at now.
func (s *Service) inactive(t *Token, acct *Account, now time.Time) bool {
	if acct.InactivityDays <= 0 || (t.Kind != KindPAT && t.Kind != KindService) {
		return false
	}
	return !now.Before(s.lastActive(t).AddDate(0, 0, acct.InactivityDays))
}

// policyRefusal says why a stored, active, unexpired token is refused by its account's
// policies ("" when it is not): past the maximum lifetime, disabled, or inactive for longer
// than the account allows. It reads the token's row and the cached account, never writes.
func (s *Service) policyRefusal(ctx context.Context, t *Token, p *Principal, now time.Time) (string, error) {
	if p.stopped(now) {
		return "max_lifetime", nil
	}
	if !t.DisabledAt.IsZero() {
		return "disabled", nil
	}
	acct, err := s.account(ctx, t.AccountID)
	if err != nil {
		return "", err
	}
	if s.inactive(t, acct, now) {
		return "inactive", nil
	}
	return "", nil
}

// DisableInactive disables the tokens that have gone unused for longer than their account
// allows, each in a change of its own (token.disabled in the audit log and the change feed),
// and returns how many. Run calls it every hour; verification refuses such tokens even before.
// Every node sweeps: the conditional update claims each token, and only the node that changed
// it audits, so two sweeps at once disable and report each token once.
func (s *Service) DisableInactive(ctx context.Context) (int, error) {
	const batch = 500
	now := s.now()
	ts, err := s.store.InactiveTokens(ctx, now, batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, found := range ts {
		disabled := false
		err := s.change(ctx, func(st *txn) error {
			t, err := st.Token(ctx, found.AccountID, found.ID)
			if err != nil {
				return err
			}
			acct, err := st.Account(ctx, t.AccountID)
			if err != nil {
				return err
			}
			if t.State != StateActive || !t.DisabledAt.IsZero() || !s.inactive(t, acct, now) {
				return nil // used or changed since it was listed
			}
			claimed, err := st.DisableIdleToken(ctx, t.AccountID, t.ID, now.AddDate(0, 0, -acct.InactivityDays), now)
			if err != nil || !claimed {
				return err // another node got there first
			}
			e := event(ctx, nil, t.AccountID, "token.disabled", string(t.Kind), t.ID)
			e.ActorUserID = t.UserID
			e.Detail = map[string]string{"uid": t.UID, "name": t.Name, "reason": "inactivity",
				"inactivity_days": strconv.Itoa(acct.InactivityDays)}
			st.audit(e)
			st.invalidate(Invalidation{TokenID: t.ID})
			disabled = true
			return nil
		})
		if err != nil {
			return n, err
		}
		if disabled {
			n++
		}
	}
	return n, nil
}

// EnableToken enables a token disabled for inactivity; its inactivity clock restarts now. It
// needs write access to service tokens (as revoking does); a deleted token stays deleted.
func (s *Service) EnableToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID) (*Token, error) {
	if err := authorize(p, accountID, perm.ServiceTokens, perm.Write, 0); err != nil {
		return nil, err
	}
	var out *Token
	err := s.change(ctx, func(st *txn) error {
		t, err := st.Token(ctx, accountID, id)
		if isNotFound(err) || (err == nil && (t.AccountID != accountID || (t.Kind != KindPAT && t.Kind != KindService))) {
			return Errorf(ENotFound, "Token %d not found.", id)
		}
		if err != nil {
			return err
		}
		if t.State != StateActive {
			return Invalidf("id", "Token %d is deleted; deleting is final.", id)
		}
		out = t
		if t.DisabledAt.IsZero() {
			return nil
		}
		now := s.now()
		t.DisabledAt, t.EnabledAt, t.UpdatedAt = time.Time{}, now, now
		if err := st.UpdateToken(ctx, accountID, t); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "token.enabled", string(t.Kind), t.ID)
		e.Detail = map[string]string{"uid": t.UID, "name": t.Name}
		st.audit(e)
		st.invalidate(Invalidation{TokenID: t.ID})
		return nil
	})
	return out, err
}
