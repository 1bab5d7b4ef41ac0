package tokend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tokend/password"
	"tokend/perm"
)

// User is a person, global across accounts, identified by e-mail (case-insensitive).
type User struct {
	ID        UserID
	Email     string
	FirstName string
	LastName  string
	// PasswordHash is an encoded argon2id hash; empty means the user cannot sign in with a password.
	PasswordHash string
	State        State
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NormalizeEmail is the form e-mails are stored and compared in.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Membership is a user in an account with a license: a "permission" / "user license" in the dbt API.
type Membership struct {
	ID        MembershipID
	AccountID AccountID
	UserID    UserID
	License   perm.License
	State     State
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is a user as one account sees them: the user, their membership (license) there and
// their groups there. Groups is nil when the principal may not read groups (and is not that
// user). Others are the user's active memberships in the other accounts the principal may see
// (none for an account-scoped token).
type Member struct {
	User       *User
	Membership *Membership
	Groups     []*Group
	Others     []*Membership
}

// ListUsers lists the members of an account with their groups there; it needs read access to
// users.
func (s *Service) ListUsers(ctx context.Context, p *Principal, accountID AccountID, f MembershipFilter) ([]*Member, int, error) {
	if err := authorize(p, accountID, perm.Users, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if f.State != 0 && !f.State.Valid() {
		return nil, 0, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", f.State)
	}
	if err := checkOrder(f.Order, "email", "first_name", "last_name"); err != nil {
		return nil, 0, err
	}
	f.AccountID = accountID
	f.Page = f.Page.Normalize()
	ms, total, err := s.store.ListMemberships(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*Member, 0, len(ms))
	for _, m := range ms {
		mem, err := s.member(ctx, s.store, p, m)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, mem)
	}
	return out, total, nil
}

// AccountUser returns one member of an account. It needs read access to users, except that a
// user may always read themselves. A user who is not a member of the account is not found.
func (s *Service) AccountUser(ctx context.Context, p *Principal, accountID AccountID, userID UserID) (*Member, error) {
	if err := checkAccount(p, accountID); err != nil {
		return nil, err
	}
	self := p.IsUser() && p.UserID == userID
	if !self && !p.Can(perm.Users, perm.Read, 0) {
		return nil, missing(p, perm.Users, perm.Read, 0)
	}
	m, err := s.store.Membership(ctx, accountID, userID)
	if isNotFound(err) {
		return nil, Errorf(ENotFound, "User %d is not a member of account %d.", userID, accountID)
	}
	if err != nil {
		return nil, err
	}
	mem, err := s.member(ctx, s.store, p, m)
	if err != nil {
		return nil, err
	}
	others, err := s.store.MembershipsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.AccountID != accountID && o.State == StateActive && s.visibleAccount(p, o.AccountID) {
			mem.Others = append(mem.Others, o)
		}
	}
	return mem, nil
}

// member loads the user behind a membership and, when p may see them, the user's groups.
func (s *Service) member(ctx context.Context, st Store, p *Principal, m *Membership) (*Member, error) {
	u, err := st.User(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	out := &Member{User: u, Membership: m}
	if p.Can(perm.Groups, perm.Read, 0) || (p.IsUser() && p.UserID == m.UserID) {
		groups, err := st.GroupsOfUser(ctx, m.AccountID, m.UserID)
		if err != nil {
			return nil, err
		}
		out.Groups = nonNilGroups(groups)
	}
	return out, nil
}

func nonNilGroups(gs []*Group) []*Group {
	if gs == nil {
		return []*Group{}
	}
	return gs
}

// UpdateLicense changes a membership's license or state; it needs write access to licenses and,
// like assigning groups, every grant the member holds through their groups and license (see
// mayChangeLicense). No one changes their own license, and the account's last admin keeps theirs.
// State 2 removes the user from the account: their groups there are cleared and their personal
// access tokens for the account are revoked, so that adding them back later does not silently
// restore old access. Either way their tokens follow the change on the next request.
func (s *Service) UpdateLicense(ctx context.Context, p *Principal, accountID AccountID, membershipID MembershipID, license *perm.License, state *State) (*Member, error) {
	if err := authorize(p, accountID, perm.Licenses, perm.Write, 0); err != nil {
		return nil, err
	}
	if license == nil && state == nil {
		return nil, Invalidf("license_type", "Give a license_type or a state to change.")
	}
	if license != nil && !license.Valid() {
		return nil, Invalidf("license_type", "%q is not a license type; want one of %s.", *license, licenseNames())
	}
	if state != nil && !state.Valid() {
		return nil, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", *state)
	}
	var out *Member
	err := s.change(ctx, func(st *txn) error {
		m, err := st.MembershipByID(ctx, accountID, membershipID)
		if isNotFound(err) {
			return Errorf(ENotFound, "User license %d not found in account %d.", membershipID, accountID)
		}
		if err != nil {
			return err
		}
		licenseChange := license != nil && *license != m.License
		stateChange := state != nil && *state != m.State
		if p.IsUser() && m.UserID == p.UserID {
			if stateChange && *state == StateDeleted {
				return Invalidf("state", "You cannot remove yourself from the account.")
			}
			if licenseChange || stateChange {
				return Errorf(EForbidden, "You cannot change your own license; ask another account admin.")
			}
		}
		if licenseChange || stateChange {
			after := m.License
			if licenseChange {
				after = *license
			}
			afterState := m.State
			if stateChange {
				afterState = *state
			}
			if err := s.mayChangeLicense(ctx, st, p, m, after, afterState); err != nil {
				return err
			}
		}
		changed := map[string]string{"user_id": strconv.FormatInt(int64(m.UserID), 10)}
		if licenseChange {
			changed["license_type"] = string(m.License) + " → " + string(*license)
			m.License = *license
		}
		if stateChange {
			changed["state"] = fmt.Sprintf("%d → %d", m.State, *state)
			switch *state {
			case StateDeleted:
				n, err := s.removeFromAccount(ctx, st, accountID, m.UserID)
				if err != nil {
					return err
				}
				changed["revoked_tokens"] = strconv.Itoa(n)
			case StateActive:
				if err := st.SetUserGroups(ctx, accountID, m.UserID, nil); err != nil {
					return err
				}
				if err := s.joinDefaultGroups(ctx, st, accountID, m.UserID); err != nil {
					return err
				}
			}
			m.State = *state
		}
		m.UpdatedAt = s.now()
		if err := st.UpdateMembership(ctx, m); err != nil {
			return err
		}
		if out, err = s.member(ctx, st, p, m); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "membership.update", "membership", m.ID)
		e.Detail = changed
		st.audit(e)
		st.invalidate(Invalidation{AccountID: accountID, UserID: m.UserID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mayChangeLicense refuses p a change of m to license after and state afterState unless p holds
// everything the member holds or would hold: every grant of their groups (as assign-groups asks)
// and, when the IT license is on either side, what IT carries. It also refuses to take admin
// rights from the account's last active account admin.
func (s *Service) mayChangeLicense(ctx context.Context, st Store, p *Principal, m *Membership, after perm.License, afterState State) error {
	groups, err := st.GroupsOfUser(ctx, m.AccountID, m.UserID)
	if err != nil {
		return err
	}
	var grants []perm.Grant
	for _, g := range groups {
		for _, gr := range g.Grants() {
			if !p.Covers(gr) {
				return Errorf(EForbidden, "You cannot change the license of this user: their group %q grants %s (%s), which you do not hold yourself in that scope.",
					g.Name, gr.Set.Label(), gr.Set)
			}
		}
		grants = append(grants, g.Grants()...)
	}
	if m.License == perm.LicenseIT || after == perm.LicenseIT {
		for _, set := range []perm.Set{perm.SecurityAdmin, perm.BillingAdmin} {
			if !p.Covers(perm.Grant{Set: set, AllProjects: true}) {
				return Errorf(EForbidden, "You cannot give or take the IT license: it carries %s (%s), which you do not hold yourself.", set.Label(), set)
			}
		}
	}
	if m.State != StateActive || !isAccountAdmin(grants, m.License) {
		return nil
	}
	if afterState == StateActive && isAccountAdmin(grants, after) {
		return nil
	}
	field := "license_type"
	if afterState != StateActive {
		field = "state"
	}
	return keepAnAdmin(ctx, st, m.AccountID, m.UserID, field)
}

// removeFromAccount clears the user's groups in the account and revokes their personal access
// tokens there; it returns how many tokens it revoked.
func (s *Service) removeFromAccount(ctx context.Context, st Store, accountID AccountID, userID UserID) (int, error) {
	if err := st.SetUserGroups(ctx, accountID, userID, nil); err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	for {
		// Revoked tokens leave the active filter, so the first page is always the next one.
		ts, _, err := st.ListTokens(ctx, TokenFilter{Kind: KindPAT, AccountID: accountID, UserID: userID,
			State: StateActive, Page: Page{Limit: MaxLimit}})
		if err != nil {
			return 0, err
		}
		if len(ts) == 0 {
			return n, nil
		}
		for _, t := range ts {
			t.State, t.UpdatedAt = StateDeleted, now
			if err := st.UpdateToken(ctx, accountID, t); err != nil {
				return 0, err
			}
			n++
		}
	}
}

// joinDefaultGroups adds the user to the account's active groups that are assigned by default,
// keeping the groups they already have.
func (s *Service) joinDefaultGroups(ctx context.Context, st Store, accountID AccountID, userID UserID) error {
	current, err := st.GroupsOfUser(ctx, accountID, userID)
	if err != nil {
		return err
	}
	ids := make([]GroupID, 0, len(current))
	for _, g := range current {
		ids = append(ids, g.ID)
	}
	added := false
	for offset := 0; ; offset += MaxLimit {
		gs, total, err := st.ListGroups(ctx, GroupFilter{AccountID: accountID, State: StateActive,
			Page: Page{Limit: MaxLimit, Offset: offset}})
		if err != nil {
			return err
		}
		for _, g := range gs {
			if g.AssignByDefault && !slices.Contains(ids, g.ID) {
				ids = append(ids, g.ID)
				added = true
			}
		}
		if len(gs) == 0 || offset+len(gs) >= total {
			break
		}
	}
	if !added {
		return nil
	}
	return st.SetUserGroups(ctx, accountID, userID, ids)
}

func licenseNames() string {
	var names []string
	for _, l := range perm.LicenseTypes() {
		names = append(names, string(l))
	}
	return strings.Join(names, ", ")
}

// AddUserInput describes a user to add to an account.
type AddUserInput struct {
	Email     string
	FirstName string
	LastName  string
	// Password is the sign-in password of a new user; empty means they cannot sign in until
	// one is set. It is ignored for an existing user.
	Password string
	License  perm.License // empty: developer
}

// maxPasswordLength bounds what is fed to argon2id.
const maxPasswordLength = 1024

// AddUser makes a new user (by e-mail) a member of an account, or brings back a member removed
// earlier with a fresh membership state. A person whose e-mail already has a user elsewhere is
// not enrolled: they get a pending invitation (returned instead of a member) that they accept
// themselves, and nothing of their user is returned. The user
// joins the account's groups that are assigned by default. It needs write access to users and
// to licenses.
func (s *Service) AddUser(ctx context.Context, p *Principal, accountID AccountID, in AddUserInput) (*Member, *Invitation, error) {
	if err := authorize(p, accountID, perm.Users, perm.Write, 0); err != nil {
		return nil, nil, err
	}
	if err := authorize(p, accountID, perm.Licenses, perm.Write, 0); err != nil {
		return nil, nil, err
	}
	email, err := parseEmail(in.Email)
	if err != nil {
		return nil, nil, err
	}
	first, err := personName("first_name", in.FirstName)
	if err != nil {
		return nil, nil, err
	}
	last, err := personName("last_name", in.LastName)
	if err != nil {
		return nil, nil, err
	}
	license := in.License
	if license == "" {
		license = perm.LicenseDeveloper
	}
	if !license.Valid() {
		return nil, nil, Invalidf("license_type", "%q is not a license type; want one of %s.", license, licenseNames())
	}
	if err := coversLicense(p, license); err != nil {
		return nil, nil, err
	}
	if in.Password != "" && len(in.Password) < password.MinLength {
		return nil, nil, Invalidf("password", "The password must be at least %d characters.", password.MinLength)
	}
	if len(in.Password) > maxPasswordLength {
		return nil, nil, Invalidf("password", "The password must be at most %d characters.", maxPasswordLength)
	}

	// Hash before the transaction (argon2id is slow on purpose), and only for a new user.
	var hash string
	if in.Password != "" {
		_, err := s.store.UserByEmail(ctx, email)
		switch {
		case isNotFound(err):
			if hash, err = password.Hash(s.rand, in.Password, s.opts.PasswordParams); err != nil {
				return nil, nil, err
			}
		case err != nil:
			return nil, nil, err
		}
	}

	var (
		out *Member
		inv *Invitation
	)
	err = s.change(ctx, func(st *txn) error {
		now := s.now()
		created := false
		u, err := st.UserByEmail(ctx, email)
		switch {
		case isNotFound(err):
			u = &User{Email: email, FirstName: first, LastName: last, PasswordHash: hash,
				State: StateActive, CreatedAt: now, UpdatedAt: now}
			if err := st.CreateUser(ctx, u); err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		}
		m, err := st.Membership(ctx, accountID, u.ID)
		switch {
		case isNotFound(err) && !created:
			// A person with a user of their own elsewhere joins only by accepting.
			inv, err = s.invite(ctx, st, p, accountID, email, license, nil)
			return err
		case isNotFound(err):
			m = &Membership{AccountID: accountID, UserID: u.ID, License: license, State: StateActive,
				CreatedAt: now, UpdatedAt: now}
			if err := st.CreateMembership(ctx, m); err != nil {
				if ErrorCode(err) == EConflict {
					return alreadyMember(email)
				}
				return err
			}
		case err != nil:
			return err
		case m.State == StateActive:
			return alreadyMember(email)
		default:
			m.License, m.State, m.UpdatedAt = license, StateActive, now
			if err := st.UpdateMembership(ctx, m); err != nil {
				return err
			}
			// Whatever groups survived an earlier removal do not come back with the user.
			if err := st.SetUserGroups(ctx, accountID, u.ID, nil); err != nil {
				return err
			}
		}
		if err := s.joinDefaultGroups(ctx, st, accountID, u.ID); err != nil {
			return err
		}
		if out, err = s.member(ctx, st, p, m); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "user.add", "user", u.ID)
		e.Detail = map[string]string{"email": email, "license_type": string(license),
			"membership_id": strconv.FormatInt(int64(m.ID), 10), "user_created": strconv.FormatBool(created)}
		st.audit(e)
		st.invalidate(Invalidation{AccountID: accountID, UserID: u.ID})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, inv, nil
}

func alreadyMember(email string) *Error {
	return Invalidf("email", "%s is already a member of this account.", email)
}

func personName(field, s string) (string, error) {
	if err := checkText(field, s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 255 {
		return "", Invalidf(field, "The %s must be at most 255 characters.", strings.ReplaceAll(field, "_", " "))
	}
	return s, nil
}

// userByTypedEmail finds the user an e-mail typed at sign-in names; text no store could hold
// names no one (ENotFound), like an unknown address.
func (s *Service) userByTypedEmail(ctx context.Context, email string) (*User, error) {
	email = NormalizeEmail(email)
	if checkText("email", email) != nil || len(email) > 254 {
		return nil, Errorf(ENotFound, "No such user.")
	}
	return s.store.UserByEmail(ctx, email)
}
