package tokend

import (
	"context"
	"strings"

	"tokend/perm"
)

// SCIM tokens are a token kind of their own, as in dbt: created by an admin of an account for
// its identity provider, shown once, stored as a hash, revocable, and good only on the
// account's SCIM endpoints (/api/v3/accounts/{a}/scim/v2/…) — never on the rest of the API.
// Managing them takes what a SCIM token can do (users, groups and licenses), so nobody hands
// an identity provider more than they hold.

// authorizeSCIMTokens checks what managing SCIM tokens needs: access a to users, groups and
// licenses.
func authorizeSCIMTokens(p *Principal, accountID AccountID, a perm.Access) error {
	for _, r := range []perm.Resource{perm.Users, perm.Groups, perm.Licenses} {
		if err := authorize(p, accountID, r, a, 0); err != nil {
			return err
		}
	}
	return nil
}

// ListSCIMTokens lists the account's active SCIM tokens.
func (s *Service) ListSCIMTokens(ctx context.Context, p *Principal, accountID AccountID, page Page) ([]*Token, int, error) {
	if err := authorizeSCIMTokens(p, accountID, perm.Read); err != nil {
		return nil, 0, err
	}
	ts, total, err := s.store.ListTokens(ctx, TokenFilter{Kind: KindSCIM, AccountID: accountID, State: StateActive, Page: page.Normalize()})
	if err != nil {
		return nil, 0, err
	}
	s.overlayUsage(ts)
	return ts, total, nil
}

// SCIMToken returns one active SCIM token of the account; a deleted one is not found.
func (s *Service) SCIMToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID) (*Token, error) {
	if err := authorizeSCIMTokens(p, accountID, perm.Read); err != nil {
		return nil, err
	}
	t, err := scimToken(ctx, s.store, accountID, id)
	if err != nil {
		return nil, err
	}
	s.overlayUsage([]*Token{t})
	return t, nil
}

func scimToken(ctx context.Context, st Store, accountID AccountID, id TokenID) (*Token, error) {
	t, err := st.Token(ctx, accountID, id)
	if err == nil && (t.Kind != KindSCIM || t.AccountID != accountID || t.State != StateActive) {
		err = Errorf(ENotFound, "SCIM token %d not found.", id)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CreateSCIMToken issues a SCIM token; the token string is returned this once.
func (s *Service) CreateSCIMToken(ctx context.Context, p *Principal, accountID AccountID, name string) (*Token, string, error) {
	if err := authorizeSCIMTokens(p, accountID, perm.Write); err != nil {
		return nil, "", err
	}
	if err := checkText("name", name); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 255 {
		return nil, "", Invalidf("name", "The token name must be 1 to 255 characters.")
	}
	var (
		t   *Token
		raw string
	)
	err := s.change(ctx, func(st *txn) error {
		now := s.now()
		t = &Token{Kind: KindSCIM, AccountID: accountID, CreatedBy: p.UserID, Name: name, State: StateActive,
			CreatedAt: now, UpdatedAt: now}
		var err error
		if raw, err = s.issue(ctx, st, t); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "scim_token.create", "scim", t.ID)
		e.Detail = map[string]string{"uid": t.UID, "name": name}
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return t, raw, nil
}

// DeleteSCIMToken revokes a SCIM token at once, on every node.
func (s *Service) DeleteSCIMToken(ctx context.Context, p *Principal, accountID AccountID, id TokenID) error {
	if err := authorizeSCIMTokens(p, accountID, perm.Write); err != nil {
		return err
	}
	return s.change(ctx, func(st *txn) error {
		t, err := scimToken(ctx, st, accountID, id)
		if err != nil {
			return err
		}
		t.State, t.UpdatedAt = StateDeleted, s.now()
		if err := st.UpdateToken(ctx, accountID, t); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "scim_token.delete", "scim", t.ID)
		e.Detail = map[string]string{"uid": t.UID, "name": t.Name}
		st.audit(e)
		st.invalidate(Invalidation{TokenID: t.ID})
		return nil
	})
}

// authorizeSCIM admits a SCIM token of accountID, and nothing else.
func authorizeSCIM(p *Principal, accountID AccountID) error {
	if p == nil {
		return ErrInvalidToken
	}
	if p.Kind != KindSCIM {
		return Errorf(EForbidden, "The SCIM endpoints take a SCIM token of the account (create one at "+
			"/api/v3/accounts/%d/scim-config/tokens/); other tokens are refused here.", accountID)
	}
	return checkAccount(p, accountID)
}

// SCIMUsers lists the account's members as the identity provider sees them, optionally only
// the one whose e-mail is userName (case-insensitive), as SCIM's userName eq filter asks.
func (s *Service) SCIMUsers(ctx context.Context, p *Principal, accountID AccountID, userName string, page Page) ([]*Member, int, error) {
	if err := authorizeSCIM(p, accountID); err != nil {
		return nil, 0, err
	}
	if userName != "" {
		u, err := s.store.UserByEmail(ctx, userName)
		if isNotFound(err) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		m, err := s.scimMember(ctx, accountID, u.ID)
		if isNotFound(err) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		return []*Member{m}, 1, nil
	}
	ms, total, err := s.store.ListMemberships(ctx, MembershipFilter{AccountID: accountID, Page: page.Normalize()})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*Member, 0, len(ms))
	for _, m := range ms {
		mem, err := s.scimMemberOf(ctx, m)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, mem)
	}
	return out, total, nil
}

// SCIMUser returns one member of the account as the identity provider sees them.
func (s *Service) SCIMUser(ctx context.Context, p *Principal, accountID AccountID, userID UserID) (*Member, error) {
	if err := authorizeSCIM(p, accountID); err != nil {
		return nil, err
	}
	return s.scimMember(ctx, accountID, userID)
}

func (s *Service) scimMember(ctx context.Context, accountID AccountID, userID UserID) (*Member, error) {
	m, err := s.store.Membership(ctx, accountID, userID)
	if isNotFound(err) {
		return nil, Errorf(ENotFound, "User %d is not a member of account %d.", userID, accountID)
	}
	if err != nil {
		return nil, err
	}
	return s.scimMemberOf(ctx, m)
}

// scimMemberOf is a membership with its user and groups (a removed member shows inactive).
func (s *Service) scimMemberOf(ctx context.Context, m *Membership) (*Member, error) {
	u, err := s.store.User(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.GroupsOfUser(ctx, m.AccountID, m.UserID)
	if err != nil {
		return nil, err
	}
	return &Member{User: u, Membership: m, Groups: groups}, nil
}
