package tokend

import (
	"context"
	"strconv"
	"strings"
	"time"

	"tokend/perm"
)

// Account is a tenant.
type Account struct {
	ID    AccountID
	Name  string
	Plan  perm.Plan
	State State
	// PATMaxLifetime caps the lifetime of new personal access tokens; zero means no cap.
	PATMaxLifetime time.Duration
	// LegacyKeysUntil, when in the future, is the end of the migration window during which
	// legacy user API keys work for this account.
	LegacyKeysUntil time.Time
	// InactivityDays disables the account's tokens unused for that many days (0: never; else
	// MinInactivityDays to MaxInactivityDays).
	InactivityDays int
	// ReuseRevokesChain makes a reuse of a rotated-out token (after its overlap) revoke every
	// token of its rotation chain, the current one included. Off by default.
	ReuseRevokesChain bool
	// OverlapFromFirstUse starts the overlap of a rotation at the new token's first use instead
	// of at the rotation (bounded by MaxFirstUseWait). Off by default.
	OverlapFromFirstUse bool
	// IPRestrictionsEnabled switches the account's IP restriction rules on.
	IPRestrictionsEnabled bool
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// LegacyWindowOpen reports whether legacy user API keys work for the account at now.
func (a *Account) LegacyWindowOpen(now time.Time) bool {
	return !a.LegacyKeysUntil.IsZero() && now.Before(a.LegacyKeysUntil)
}

// Accounts lists what the principal may see: an account-scoped token sees only its own
// account.
func (s *Service) Accounts(ctx context.Context, p *Principal) ([]*Account, error) {
	if p == nil {
		return nil, ErrInvalidToken
	}
	ids := []AccountID{p.AccountID}
	if p.Kind == KindLegacyKey {
		ids = p.LegacyAccounts()
	}
	out := make([]*Account, 0, len(ids))
	for _, id := range ids {
		a, err := s.account(ctx, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if a.State == StateActive {
			out = append(out, a)
		}
	}
	return out, nil
}

// Account returns one account. Any principal of the account may read it.
func (s *Service) Account(ctx context.Context, p *Principal, id AccountID) (*Account, error) {
	if err := checkAccount(p, id); err != nil {
		return nil, err
	}
	return s.account(ctx, id)
}

// TokenPolicies returns the account with its token policies (maximum lifetime, inactivity,
// rotation) for the console's policy page: for those who may change them (account settings
// write), so that the page is offered to admins only.
func (s *Service) TokenPolicies(ctx context.Context, p *Principal, id AccountID) (*Account, error) {
	if err := authorize(p, id, perm.AccountSettings, perm.Write, 0); err != nil {
		return nil, err
	}
	return s.account(ctx, id)
}

// AccountUpdate carries the fields an account update may change; nil leaves a field alone.
type AccountUpdate struct {
	Name *string
	// PATMaxLifetimeSeconds caps the lifetime of new personal access tokens, in seconds as
	// clients send it (bounded here before it becomes a Duration, which would overflow); zero
	// removes the cap.
	PATMaxLifetimeSeconds *int64
	// InactivityDays disables tokens unused for that many days: 0 (off) or 30 to 365.
	InactivityDays *int
	// ReuseRevokesChain: a reuse of a rotated-out token revokes its whole rotation chain.
	ReuseRevokesChain *bool
	// OverlapFromFirstUse: a rotation's overlap starts at the new token's first use.
	OverlapFromFirstUse *bool
	// LegacyKeysUntil opens a migration window for legacy user API keys until that time; the
	// zero time closes it.
	LegacyKeysUntil *time.Time
}

// MaxPATLifetimeCap is the longest cap an account may set (ten years).
const MaxPATLifetimeCap = 10 * 365 * 24 * time.Hour

// UpdateAccount changes an account's settings; it needs write access to account settings.
func (s *Service) UpdateAccount(ctx context.Context, p *Principal, id AccountID, u AccountUpdate) (*Account, error) {
	if err := authorize(p, id, perm.AccountSettings, perm.Write, 0); err != nil {
		return nil, err
	}
	var out *Account
	err := s.change(ctx, func(st *txn) error {
		a, err := st.Account(ctx, id)
		if err != nil {
			return err
		}
		changed := map[string]string{}
		if u.Name != nil {
			name, err := accountName(*u.Name)
			if err != nil {
				return err
			}
			if name != a.Name {
				changed["name"] = name
			}
			a.Name = name
		}
		if u.PATMaxLifetimeSeconds != nil {
			secs := *u.PATMaxLifetimeSeconds
			if secs != 0 && (secs < int64(time.Hour/time.Second) || secs > int64(MaxPATLifetimeCap/time.Second)) {
				return Invalidf("pat_max_lifetime_seconds", "The maximum PAT lifetime must be 0 (none) or between 3600 and %d seconds, got %d.", int64(MaxPATLifetimeCap/time.Second), secs)
			}
			d := time.Duration(secs) * time.Second
			if d != a.PATMaxLifetime {
				changed["pat_max_lifetime"] = d.String()
			}
			a.PATMaxLifetime = d
		}
		if u.InactivityDays != nil {
			d := *u.InactivityDays
			if d != 0 && (d < MinInactivityDays || d > MaxInactivityDays) {
				return Invalidf("inactivity_days", "Inactivity must be 0 (off) or between %d and %d days, got %d.", MinInactivityDays, MaxInactivityDays, d)
			}
			if d != a.InactivityDays {
				changed["inactivity_days"] = strconv.Itoa(d)
			}
			a.InactivityDays = d
		}
		if u.ReuseRevokesChain != nil {
			if *u.ReuseRevokesChain != a.ReuseRevokesChain {
				changed["reuse_revokes_chain"] = strconv.FormatBool(*u.ReuseRevokesChain)
			}
			a.ReuseRevokesChain = *u.ReuseRevokesChain
		}
		if u.OverlapFromFirstUse != nil {
			if *u.OverlapFromFirstUse != a.OverlapFromFirstUse {
				changed["overlap_from_first_use"] = strconv.FormatBool(*u.OverlapFromFirstUse)
			}
			a.OverlapFromFirstUse = *u.OverlapFromFirstUse
		}
		if u.LegacyKeysUntil != nil {
			until := u.LegacyKeysUntil.UTC()
			now := s.now()
			if !until.IsZero() && (!until.After(now) || until.After(now.Add(MaxLegacyWindow))) {
				return Invalidf("legacy_keys_until", "A migration window for legacy API keys must end in the future and within %d days, or be null to close it.", int(MaxLegacyWindow.Hours()/24))
			}
			if !until.Equal(a.LegacyKeysUntil) {
				changed["legacy_keys_until"] = until.Format(time.RFC3339)
				if until.IsZero() {
					changed["legacy_keys_until"] = "closed"
				}
			}
			a.LegacyKeysUntil = until
		}
		a.UpdatedAt = s.now()
		if err := st.UpdateAccount(ctx, a); err != nil {
			return err
		}
		out = a
		e := event(ctx, p, id, "account.update", "account", id)
		e.Detail = changed
		st.audit(e)
		st.invalidate(Invalidation{AccountID: id})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func accountName(s string) (string, error) {
	if err := checkText("name", s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalidf("name", "The account name must not be empty.")
	}
	if len(s) > 255 {
		return "", Invalidf("name", "The account name must be at most 255 characters.")
	}
	return s, nil
}
