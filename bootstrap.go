package tokend

import (
	"context"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"

	"time"

	"tokend/password"
	"tokend/perm"
)

// InitParams describe a new account and its owner.
type InitParams struct {
	AccountName string
	Plan        perm.Plan
	Email       string
	// Password is the owner's sign-in password. Empty: a new user gets a generated one,
	// an existing user keeps theirs; given for an existing user, it replaces theirs.
	Password  string
	FirstName string
	LastName  string
}

// InitResult is what Init created. Token is the owner's PAT, shown this once.
type InitResult struct {
	Account     *Account
	User        *User
	UserCreated bool
	// PasswordSet says an existing user's password was replaced by InitParams.Password.
	PasswordSet       bool
	GeneratedPassword string
	Token             string
	TokenUID          string
}

// Default groups of a new account, as dbt creates them.
const (
	GroupOwner    = "Owner"
	GroupMember   = "Member"
	GroupEveryone = "Everyone"
)

// Init creates an account with its default groups, its owner (reused when the e-mail exists,
// so one person can be in several accounts) with a Developer license and account_admin on all
// projects, and a PAT for the owner. It is the operator's entry point; there is no principal.
func (s *Service) Init(ctx context.Context, in InitParams) (*InitResult, error) {
	name, err := accountName(in.AccountName)
	if err != nil {
		return nil, err
	}
	if _, err := perm.ParsePlan(string(in.Plan)); err != nil {
		return nil, Invalidf("plan", "%s", err.Error())
	}
	email, err := parseEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Password != "" && len(in.Password) < password.MinLength {
		return nil, Invalidf("password", "The password must be at least %d characters.", password.MinLength)
	}

	res := &InitResult{}
	now := s.now()
	err = s.change(ctx, func(st *txn) error {
		u, err := st.UserByEmail(ctx, email)
		switch {
		case isNotFound(err):
			pw := in.Password
			if pw == "" {
				if pw, err = randomString(s.rand, 20); err != nil {
					return err
				}
				res.GeneratedPassword = pw
			}
			hash, err := password.Hash(s.rand, pw, s.opts.PasswordParams)
			if err != nil {
				return err
			}
			u = &User{Email: email, FirstName: in.FirstName, LastName: in.LastName,
				PasswordHash: hash, State: StateActive, CreatedAt: now, UpdatedAt: now}
			if err := st.CreateUser(ctx, u); err != nil {
				return err
			}
			res.UserCreated = true
		case err != nil:
			return err
		case in.Password != "" && password.Verify(in.Password, u.PasswordHash) != nil:
			// The operator gave a password for an existing user: set it, as told, and end the
			// sessions the old one opened.
			hash, err := password.Hash(s.rand, in.Password, s.opts.PasswordParams)
			if err != nil {
				return err
			}
			u.PasswordHash, u.UpdatedAt = hash, now
			if err := st.UpdateUser(ctx, u); err != nil {
				return err
			}
			if _, err := st.DeleteUserSessions(ctx, u.ID, 0); err != nil {
				return err
			}
			if _, err := st.DeletePasswordResets(ctx, u.ID); err != nil {
				return err
			}
			res.PasswordSet = true
		}
		res.User = u

		a := &Account{Name: name, Plan: in.Plan, State: StateActive, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateAccount(ctx, a); err != nil {
			return err
		}
		res.Account = a
		m := &Membership{AccountID: a.ID, UserID: u.ID, License: perm.LicenseDeveloper,
			State: StateActive, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateMembership(ctx, m); err != nil {
			return err
		}
		owner, err := s.createDefaultGroups(ctx, st, a.ID, now)
		if err != nil {
			return err
		}
		if err := st.SetUserGroups(ctx, a.ID, u.ID, owner); err != nil {
			return err
		}
		t := &Token{Kind: KindPAT, AccountID: a.ID, UserID: u.ID, CreatedBy: u.ID,
			Name: "tokend init", State: StateActive, CreatedAt: now, UpdatedAt: now}
		raw, err := s.issue(ctx, st, t)
		if err != nil {
			return err
		}
		res.Token, res.TokenUID = raw, t.UID
		st.audit(&AuditEvent{AccountID: a.ID, ActorUserID: u.ID,
			Action: "account.create", TargetType: "account", TargetID: int64(a.ID),
			Detail: map[string]string{"owner_token_uid": t.UID, "plan": string(a.Plan),
				"owner_password_set": strconv.FormatBool(res.PasswordSet)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// createDefaultGroups makes Owner (account_admin), Member (member) and Everyone (assigned by
// default, no grants) and returns the groups the owner joins.
func (s *Service) createDefaultGroups(ctx context.Context, st Store, accountID AccountID, now time.Time) ([]GroupID, error) {
	defs := []struct {
		name     string
		byDef    bool
		set      perm.Set
		forOwner bool
	}{
		{GroupOwner, false, perm.AccountAdmin, true},
		{GroupMember, false, perm.Member, false},
		{GroupEveryone, true, "", true},
	}
	var ownerGroups []GroupID
	for _, d := range defs {
		g := &Group{AccountID: accountID, Name: d.name, AssignByDefault: d.byDef, State: StateActive,
			CreatedAt: now, UpdatedAt: now}
		if err := st.CreateGroup(ctx, g); err != nil {
			return nil, err
		}
		if d.set != "" {
			if err := st.SetGroupPermissions(ctx, accountID, g.ID, []perm.Grant{{Set: d.set, AllProjects: true}}); err != nil {
				return nil, err
			}
		}
		if d.forOwner {
			ownerGroups = append(ownerGroups, g.ID)
		}
	}
	return ownerGroups, nil
}

func parseEmail(s string) (string, error) {
	e := NormalizeEmail(s)
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || !strings.Contains(e, "@") || len(e) > 254 {
		return "", Invalidf("email", "%q is not a valid e-mail address.", s)
	}
	return e, nil
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString draws n characters uniformly from alphabet (rejection sampling).
func randomString(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < n { // 248 = 4*62: keeps the draw unbiased
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out), nil
}
