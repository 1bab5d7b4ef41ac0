package tokend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tokend/perm"
	"tokend/secret"
)

// ServiceTokenInput describes a new service token.
type ServiceTokenInput struct {
	Name   string
	Grants []perm.Grant
}

// ServiceTokenUpdate carries what an update may change; nil leaves a field alone.
type ServiceTokenUpdate struct {
	Name  *string
	State *State
}

// authorizeServiceTokens checks the seeds' rule for managing service tokens: for writes, a
// Developer (or Analyst) licensed user with account-admin rights, or a service token holding
// them; for reads, read access to service tokens (Security Admin has it).
func authorizeServiceTokens(p *Principal, accountID AccountID, a perm.Access) error {
	if err := authorize(p, accountID, perm.ServiceTokens, a, 0); err != nil {
		return err
	}
	if a == perm.Write && p.Kind != KindService && !p.License.CanManageServiceTokens() {
		e := Errorf(EForbidden, "Managing service tokens needs a Developer or Analyst license; this user has a %s license.", p.License)
		e.Missing = missingOf(p, perm.ServiceTokens, perm.Write)
		e.Missing.License = string(p.License)
		return e
	}
	return nil
}

// checkPlan refuses grants the account's plan does not allow on service tokens.
func checkPlan(plan perm.Plan, grants []perm.Grant) error {
	for i, g := range grants {
		if !plan.AllowsServiceTokenSet(g.Set) {
			var allowed []string
			for _, s := range perm.Sets() {
				if plan.AllowsServiceTokenSet(s) {
					allowed = append(allowed, string(s))
				}
			}
			return Invalidf(fmt.Sprintf("[%d].permission_set", i),
				"Permission set %q (%s) is not available to service tokens on the %s plan; it allows: %s.",
				g.Set, plan.SetLabel(g.Set), plan.Family(), strings.Join(allowed, ", "))
		}
	}
	return nil
}

// checkServiceGrants is the one rule for the grants of a service token, and of the trust
// policies that mint them: normalized, within the account's plan, and no more than p holds.
func (s *Service) checkServiceGrants(ctx context.Context, st Store, p *Principal, acct *Account, grants []perm.Grant) ([]perm.Grant, error) {
	grants = normalizeServiceGrants(grants)
	if err := checkPlan(acct.Plan, grants); err != nil {
		return nil, err
	}
	if err := s.checkGrants(ctx, st, p, acct.ID, grants); err != nil {
		return nil, err
	}
	return grants, nil
}

// normalizeServiceGrants collapses duplicates and gives sets that take environment write access
// "all" categories when none are named (absent means all).
func normalizeServiceGrants(grants []perm.Grant) []perm.Grant {
	out := make([]perm.Grant, 0, len(grants))
	for _, g := range grants {
		if g.Set.SupportsEnvironmentCategories() && len(g.WritableEnvironmentCategories) == 0 {
			g.WritableEnvironmentCategories = []string{"all"}
		}
		if !slices.ContainsFunc(out, func(o perm.Grant) bool { return sameGrant(o, g) }) {
			out = append(out, g)
		}
	}
	return out
}

// ListServiceTokens lists the account's service tokens, narrowed and ordered by q (the zero
// TokenQuery: all of them, by id).
func (s *Service) ListServiceTokens(ctx context.Context, p *Principal, accountID AccountID, state State, q TokenQuery, page Page) ([]*Token, int, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Read); err != nil {
		return nil, 0, err
	}
	ts, total, err := s.store.ListTokens(ctx, q.narrow(TokenFilter{Kind: KindService, AccountID: accountID, State: state,
		Page: page.Normalize()}, s.now()))
	if err != nil {
		return nil, 0, err
	}
	s.overlayUsage(ts)
	return ts, total, nil
}

// ServiceToken returns one service token, deleted ones included (with state 2).
func (s *Service) ServiceToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID) (*Token, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Read); err != nil {
		return nil, err
	}
	t, err := s.serviceToken(ctx, s.store, accountID, id)
	if err != nil {
		return nil, err
	}
	s.overlayUsage([]*Token{t})
	return t, nil
}

func (s *Service) serviceToken(ctx context.Context, st Store, accountID AccountID, id TokenID) (*Token, error) {
	t, err := st.Token(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if t.Kind != KindService || t.AccountID != accountID {
		return nil, Errorf(ENotFound, "Service token %d not found.", id)
	}
	return t, nil
}

// CreateServiceToken creates a service token owned by the account and returns its string
// this once. It outlives whoever created it.
func (s *Service) CreateServiceToken(ctx context.Context, p *Principal, accountID AccountID, in ServiceTokenInput) (*Token, string, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return nil, "", err
	}
	if err := checkText("name", in.Name); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 255 {
		return nil, "", Invalidf("name", "The service token name must be 1 to 255 characters.")
	}
	var (
		t   *Token
		raw string
	)
	err := s.change(ctx, func(st *txn) error {
		acct, err := st.Account(ctx, accountID)
		if err != nil {
			return err
		}
		grants, err := s.checkServiceGrants(ctx, st, p, acct, in.Grants)
		if err != nil {
			return prefixField(err, "permission_grants")
		}
		now := s.now()
		t = &Token{Kind: KindService, AccountID: accountID, CreatedBy: p.UserID, Name: name,
			State: StateActive, CreatedAt: now, UpdatedAt: now}
		if raw, err = s.issue(ctx, st, t); err != nil {
			return err
		}
		if err := st.SetTokenPermissions(ctx, accountID, t.ID, grants); err != nil {
			return err
		}
		e := event(ctx, p, accountID, ActionServiceTokenCreated, "service", t.ID)
		e.Detail = map[string]string{"uid": t.UID, "name": name, "permissions": grantSummary(grants)}
		st.audit(e)
		t, err = st.Token(ctx, t.AccountID, t.ID)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return t, raw, nil
}

// UpdateServiceToken renames a service token; state 2 deletes it.
func (s *Service) UpdateServiceToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID, u ServiceTokenUpdate) (*Token, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	if u.State != nil && !u.State.Valid() {
		return nil, Invalidf("state", "\"state\" must be 1 (active) or 2 (deleted).")
	}
	var t *Token
	err := s.change(ctx, func(st *txn) error {
		var err error
		if t, err = s.serviceToken(ctx, st, accountID, id); err != nil {
			return err
		}
		changed := map[string]string{"uid": t.UID}
		if u.Name != nil {
			if err := checkText("name", *u.Name); err != nil {
				return err
			}
			name := strings.TrimSpace(*u.Name)
			if name == "" || len(name) > 255 {
				return Invalidf("name", "The service token name must be 1 to 255 characters.")
			}
			if name != t.Name {
				changed["name"] = name
			}
			t.Name = name
		}
		action := "token.update"
		if u.State != nil && *u.State != t.State {
			if t.State == StateDeleted {
				return Invalidf("state", "A deleted service token cannot be restored; create a new one.")
			}
			t.State = *u.State
			action = ActionServiceTokenRevoked
		}
		t.UpdatedAt = s.now()
		if err := st.UpdateToken(ctx, accountID, t); err != nil {
			return err
		}
		e := event(ctx, p, accountID, action, "service", t.ID)
		e.Detail = changed
		st.audit(e)
		st.invalidate(Invalidation{TokenID: t.ID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteServiceToken revokes a service token at once.
func (s *Service) DeleteServiceToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID) error {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return err
	}
	return s.revoke(ctx, p, accountID, func(st Store) (*Token, error) {
		return s.serviceToken(ctx, st, accountID, id)
	})
}

// ServiceTokenPermissions returns a service token's grants.
func (s *Service) ServiceTokenPermissions(ctx context.Context, p *Principal, accountID AccountID, id TokenID) (*Token, error) {
	return s.ServiceToken(ctx, p, accountID, id)
}

// SetServiceTokenPermissions replaces a service token's grants with grants; the token's very
// next request sees the new set.
func (s *Service) SetServiceTokenPermissions(ctx context.Context, p *Principal, accountID AccountID, id TokenID, grants []perm.Grant) (*Token, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	var t *Token
	err := s.change(ctx, func(st *txn) error {
		var err error
		if t, err = s.serviceToken(ctx, st, accountID, id); err != nil {
			return err
		}
		if t.State != StateActive {
			return Invalidf("id", "Service token %d is deleted.", id)
		}
		acct, err := st.Account(ctx, accountID)
		if err != nil {
			return err
		}
		if grants, err = s.checkServiceGrants(ctx, st, p, acct, grants); err != nil {
			return err
		}
		if err := st.SetTokenPermissions(ctx, accountID, t.ID, grants); err != nil {
			return err
		}
		t.UpdatedAt = s.now()
		if err := st.UpdateToken(ctx, accountID, t); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "token.permissions.set", "service", t.ID)
		e.Detail = map[string]string{"uid": t.UID, "permissions": grantSummary(grants)}
		st.audit(e)
		st.invalidate(Invalidation{TokenID: t.ID})
		t, err = st.Token(ctx, t.AccountID, t.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// prefixField puts a request-body prefix on an EInvalid error's field.
func prefixField(err error, prefix string) error {
	if e, ok := err.(*Error); ok && e.Code == EInvalid && e.Field != "" {
		cp := *e
		cp.Field = prefix + cp.Field
		return &cp
	}
	return err
}

// ImportedToken is a service token from an older system, kept in its old format: the string
// is unknown to tokend, only its uid and salted slow hash are.
type ImportedToken struct {
	AccountID AccountID
	UID       string
	SlowHash  string // "pbkdf2_sha256$<iterations>$<salt>$<base64 key>"
	Name      string
	CreatedAt time.Time
	Grants    []perm.Grant
}

// ImportServiceTokens stores old-format service tokens; they keep working through the slow
// hash until their first use upgrades them. It is an operator's command: there is no
// principal, and the whole batch is refused if one token is wrong.
func (s *Service) ImportServiceTokens(ctx context.Context, in []ImportedToken) ([]*Token, error) {
	var out []*Token
	err := s.change(ctx, func(st *txn) error {
		for i, it := range in {
			field := fmt.Sprintf("tokens[%d]", i)
			if _, err := secret.Parse("dbtc_" + it.UID + "_" + strings.Repeat("0", 16)); err != nil {
				return Invalidf(field+".uid", "Token %d: uid %q must be 4 to 40 letters and digits.", i, it.UID)
			}
			if err := secret.CheckSlowHash(it.SlowHash); err != nil {
				return Invalidf(field+".hash", "Token %d: the hash must be a pbkdf2_sha256 hash in Django's format.", i)
			}
			if err := checkText(field+".name", it.Name); err != nil {
				return err
			}
			name := strings.TrimSpace(it.Name)
			if name == "" || len(name) > 255 {
				return Invalidf(field+".name", "Token %d: the name must be 1 to 255 characters.", i)
			}
			acct, err := st.Account(ctx, it.AccountID)
			if isNotFound(err) {
				return Invalidf(field+".account_id", "Token %d: account %d does not exist.", i, it.AccountID)
			}
			if err != nil {
				return err
			}
			grants := normalizeServiceGrants(it.Grants)
			for j, g := range grants {
				if err := g.Validate(); err != nil {
					return Invalidf(fmt.Sprintf("%s.permissions[%d]", field, j), "Token %d: %v.", i, err)
				}
				if g.ProjectID != 0 {
					if _, err := st.Project(ctx, it.AccountID, ProjectID(g.ProjectID)); err != nil {
						return Invalidf(fmt.Sprintf("%s.permissions[%d].project_id", field, j),
							"Token %d: project %d does not exist in account %d.", i, g.ProjectID, it.AccountID)
					}
				}
			}
			if err := checkPlan(acct.Plan, grants); err != nil {
				return prefixField(err, field+".permissions")
			}
			now := s.now()
			created := it.CreatedAt
			if created.IsZero() {
				created = now
			}
			t := &Token{Kind: KindService, AccountID: it.AccountID, UID: it.UID, Name: name, SlowHash: it.SlowHash,
				LegacyFormat: true, State: StateActive, CreatedAt: created, UpdatedAt: now}
			if err := st.CreateToken(ctx, t); err != nil {
				if ErrorCode(err) == EConflict {
					return Invalidf(field+".uid", "Token %d: uid %q is already taken.", i, it.UID)
				}
				return err
			}
			if err := st.SetTokenPermissions(ctx, it.AccountID, t.ID, grants); err != nil {
				return err
			}
			e := event(ctx, nil, it.AccountID, "token.import", "service", t.ID)
			e.Detail = map[string]string{"uid": t.UID, "name": name, "permissions": grantSummary(grants)}
			st.audit(e)
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RotateServiceToken replaces a service token with a new one of the same name and grants, and
// returns the new string once. The old token stops at once, or after overlap so that what uses
// it can be switched over. The principal must be able to grant what the token holds, as if
// creating it.
func (s *Service) RotateServiceToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID, overlap time.Duration) (*Token, string, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return nil, "", err
	}
	if overlap < 0 || overlap > MaxRotationOverlap {
		return nil, "", Invalidf("overlap_seconds", "The overlap must be between 0 and %d seconds.", int(MaxRotationOverlap.Seconds()))
	}
	var (
		fresh *Token
		raw   string
	)
	err := s.change(ctx, func(st *txn) error {
		old, err := s.serviceToken(ctx, st, accountID, id)
		if err != nil {
			return err
		}
		now := s.now()
		if old.State != StateActive || old.Expired(now) {
			return Invalidf("id", "Service token %d is deleted or expired; create a new one instead.", id)
		}
		// Only the newest token of a rotation chain rotates it, as for personal access tokens.
		rotated := Invalidf("id", "Service token %d has been replaced by a newer token already; rotate the newest one instead.", id)
		if !old.RotatedAt.IsZero() {
			return rotated
		}
		if err := st.MarkTokenRotated(ctx, accountID, old.ID, now); err != nil {
			if ErrorCode(err) == EConflict {
				return rotated
			}
			return err
		}
		grants := old.Grants()
		if err := s.checkGrants(ctx, st, p, accountID, grants); err != nil {
			return prefixField(err, "permission_grants")
		}
		acct, err := st.Account(ctx, accountID)
		if err != nil {
			return err
		}
		fresh = &Token{Kind: KindService, AccountID: accountID, CreatedBy: p.UserID, Name: old.Name,
			State: StateActive, CreatedAt: now, UpdatedAt: now}
		succeed(acct, old, fresh, overlap)
		if raw, err = s.issue(ctx, st, fresh); err != nil {
			return err
		}
		if err := st.SetTokenPermissions(ctx, accountID, fresh.ID, grants); err != nil {
			return err
		}
		if err := retireRotated(ctx, st, p, accountID, old, fresh, "service", overlap, now); err != nil {
			return err
		}
		fresh, err = st.Token(ctx, fresh.AccountID, fresh.ID)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return fresh, raw, nil
}
