package tokend_test

import (
	"testing"

	"tokend"
	"tokend/password"
	"tokend/perm"
	"tokend/sqlite/sqlitetest"
)

// newService is a Service on an SQLite file of its own (ids offset by kind), with one Enterprise account and its
// owner, authenticated by the owner's PAT.
func newService(tb testing.TB) (*tokend.Service, *tokend.InitResult, *tokend.Principal) {
	tb.Helper()
	st := sqlitetest.Open(tb)
	svc := tokend.NewService(st, tokend.Options{PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1},
		SlowHashIterations: 1000})
	res, err := svc.Init(tb.Context(), tokend.InitParams{AccountName: "A", Plan: perm.PlanEnterprise,
		Email: "owner@example.com", Password: "a long enough password"})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.Authenticate(tb.Context(), res.Token, "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return svc, res, p
}

// TestNoOneChangesTheirOwnLicense states the rule directly: the owner, who may change licenses,
// may not change or remove their own; the membership is left as it was.
func TestNoOneChangesTheirOwnLicense(t *testing.T) {
	t.Parallel()
	svc, res, p := newService(t)
	ctx := t.Context()
	m, err := svc.Store().Membership(ctx, res.Account.ID, res.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	readOnly, deleted := perm.LicenseReadOnly, tokend.StateDeleted
	tests := []struct {
		name    string
		license *perm.License
		state   *tokend.State
		want    tokend.Code
	}{
		{"license", &readOnly, nil, tokend.EForbidden},
		{"removal", nil, &deleted, tokend.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.UpdateLicense(ctx, p, res.Account.ID, m.ID, tt.license, tt.state)
			if got := tokend.ErrorCode(err); got != tt.want {
				t.Errorf("got %q (%v), want %q", got, err, tt.want)
			}
			after, err := svc.Store().Membership(ctx, res.Account.ID, res.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.License != m.License || after.State != m.State {
				t.Errorf("membership: got %s/%d, want %s/%d unchanged", after.License, after.State, m.License, m.State)
			}
		})
	}
}

// twoAccounts makes accounts A and B on st, each with its owner (one user each), and returns
// their Init results and the owners' principals.
func twoAccounts(t *testing.T, st tokend.Store) (*tokend.Service, [2]*tokend.InitResult, [2]*tokend.Principal) {
	t.Helper()
	svc := tokend.NewService(st, tokend.Options{PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1},
		SlowHashIterations: 1000})
	var res [2]*tokend.InitResult
	var ps [2]*tokend.Principal
	for i, name := range []string{"A", "B"} {
		r, err := svc.Init(t.Context(), tokend.InitParams{AccountName: name, Plan: perm.PlanEnterprise,
			Email: "owner-" + name + "@example.com", Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.Authenticate(t.Context(), r.Token, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		res[i], ps[i] = r, p
	}
	return svc, res, ps
}

// TestAccountBoundaryOnReads states the boundary: a principal of account A asking for B's
// objects gets a refusal through B's id (EForbidden) and nothing through its own (ENotFound).
func TestAccountBoundaryOnReads(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		svc, res, ps := twoAccounts(t, st)
		ctx := t.Context()
		a, b := res[0].Account.ID, res[1].Account.ID
		pa, pb := ps[0], ps[1]
		svcB, _, err := svc.CreateServiceToken(ctx, pb, b, tokend.ServiceTokenInput{Name: "ci",
			Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}})
		if err != nil {
			t.Fatal(err)
		}
		patB, _, err := svc.CreatePAT(ctx, pb, b, pb.UserID, tokend.PATInput{Name: "laptop"})
		if err != nil {
			t.Fatal(err)
		}
		projB, err := svc.CreateProject(ctx, pb, b, tokend.ProjectInput{Name: "analytics"})
		if err != nil {
			t.Fatal(err)
		}
		groupsB, _, err := svc.ListGroups(ctx, pb, b, tokend.GroupFilter{})
		if err != nil || len(groupsB) == 0 {
			t.Fatalf("B's groups: %v, %d", err, len(groupsB))
		}
		reads := []struct {
			name string
			read func(account tokend.AccountID) error
		}{
			{"service token", func(acct tokend.AccountID) error { _, err := svc.ServiceToken(ctx, pa, acct, svcB.ID); return err }},
			{"PAT", func(acct tokend.AccountID) error { _, err := svc.PAT(ctx, pa, acct, pa.UserID, patB.ID); return err }},
			{"project", func(acct tokend.AccountID) error { _, err := svc.Project(ctx, pa, acct, projB.ID); return err }},
			{"group", func(acct tokend.AccountID) error { _, err := svc.Group(ctx, pa, acct, groupsB[0].ID); return err }},
			{"account", func(acct tokend.AccountID) error {
				if acct == a {
					return tokend.Errorf(tokend.ENotFound, "A's own account is A's to read")
				}
				_, err := svc.Account(ctx, pa, acct)
				return err
			}},
		}
		for _, tt := range reads {
			t.Run(tt.name, func(t *testing.T) {
				if got := tokend.ErrorCode(tt.read(b)); got != tokend.EForbidden {
					t.Errorf("through B's id: got %q, want %q", got, tokend.EForbidden)
				}
				if got := tokend.ErrorCode(tt.read(a)); got != tokend.ENotFound {
					t.Errorf("through A's own id: got %q, want %q", got, tokend.ENotFound)
				}
			})
		}
	})
}

// TestRotationChain states the rotation rule: a token is rotated once; rotating it again is
// refused and issues nothing, and without an overlap the old token stops at once.
func TestRotationChain(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		svc, _, ps := twoAccounts(t, st)
		ctx := t.Context()
		p := ps[0]
		old, oldRaw, err := svc.CreatePAT(ctx, p, p.AccountID, p.UserID, tokend.PATInput{Name: "laptop"})
		if err != nil {
			t.Fatal(err)
		}
		fresh, freshRaw, err := svc.RotatePAT(ctx, p, p.AccountID, p.UserID, old.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			do   func() error
			want tokend.Code
		}{
			{"the rotated token again", func() error {
				_, _, err := svc.RotatePAT(ctx, p, p.AccountID, p.UserID, old.ID, 0)
				return err
			}, tokend.EInvalid},
			{"the old token", func() error { _, err := svc.Authenticate(ctx, oldRaw, "127.0.0.1"); return err }, tokend.EUnauthenticated},
			{"the new token", func() error { _, err := svc.Authenticate(ctx, freshRaw, "127.0.0.1"); return err }, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := tokend.ErrorCode(tt.do()); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
		ts, _, err := svc.ListPATs(ctx, p, p.AccountID, p.UserID, tokend.StateActive, tokend.TokenQuery{}, tokend.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var live []tokend.TokenID
		for _, tok := range ts {
			if tok.ID == old.ID || tok.ID == fresh.ID {
				live = append(live, tok.ID)
			}
		}
		if len(live) != 1 || live[0] != fresh.ID {
			t.Errorf("active tokens of the chain: got %v, want only %d", live, fresh.ID)
		}
	})
}

// TestTheLastAdminStays states that no change leaves an account nobody can administer: the
// owner's group, the only source of account_admin, can neither lose the set, nor be
// deleted, nor lose its one member; each refusal changes nothing.
func TestTheLastAdminStays(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		svc, _, ps := twoAccounts(t, st)
		ctx := t.Context()
		p := ps[0]
		gs, _, err := svc.ListGroups(ctx, p, p.AccountID, tokend.GroupFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var admins *tokend.Group
		for _, g := range gs {
			for _, gr := range g.Grants() {
				if gr.Set == perm.AccountAdmin {
					admins = g
				}
			}
		}
		if admins == nil {
			t.Fatal("the owner has no account_admin group")
		}
		deleted := tokend.StateDeleted
		tests := []struct {
			name   string
			change func() error
		}{
			{"the set taken from the group", func() error {
				_, err := svc.SetGroupPermissions(ctx, p, p.AccountID, admins.ID, []perm.Grant{{Set: perm.Member, AllProjects: true}})
				return err
			}},
			{"the group deleted", func() error {
				_, err := svc.UpdateGroup(ctx, p, p.AccountID, admins.ID, tokend.GroupUpdate{State: &deleted})
				return err
			}},
			{"the owner taken out of the group", func() error {
				_, err := svc.AssignGroups(ctx, p, p.AccountID, p.UserID, nil)
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := tokend.ErrorCode(tt.change()); got != tokend.EInvalid {
					t.Errorf("got %q, want %q", got, tokend.EInvalid)
				}
				after, err := svc.Group(ctx, p, p.AccountID, admins.ID)
				if err != nil {
					t.Fatal(err)
				}
				if after.State != tokend.StateActive || len(after.Grants()) != len(admins.Grants()) {
					t.Errorf("the group: got state %d with %d grants, want it unchanged (%d, %d)",
						after.State, len(after.Grants()), admins.State, len(admins.Grants()))
				}
				again, err := svc.SessionPrincipal(ctx, p.UserID, p.AccountID)
				if err != nil {
					t.Fatal(err)
				}
				if !again.Covers(perm.Grant{Set: perm.AccountAdmin, AllProjects: true}) {
					t.Error("the owner is no longer an account admin")
				}
			})
		}
	})
}

// groupWith creates a group named name in by's account, with grants.
func groupWith(t *testing.T, svc *tokend.Service, by *tokend.Principal, name string, grants ...perm.Grant) *tokend.Group {
	t.Helper()
	g, err := svc.CreateGroup(t.Context(), by, by.AccountID, tokend.GroupInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetGroupPermissions(t.Context(), by, by.AccountID, g.ID, grants); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestNobodyGrantsWhatTheyDoNotHold states the covers rule: a Security Admin, who may write
// groups, may hand out what it holds and nothing more, whether by a group's permissions or by
// joining a group that grants more; each refusal changes nothing.
func TestNobodyGrantsWhatTheyDoNotHold(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		svc, _, ps := twoAccounts(t, st)
		ctx := t.Context()
		owner := ps[0]
		a := owner.AccountID
		security := groupWith(t, svc, owner, "Security", perm.Grant{Set: perm.SecurityAdmin, AllProjects: true})
		m, _, err := svc.AddUser(ctx, owner, a, tokend.AddUserInput{Email: "sec@example.com", Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AssignGroups(ctx, owner, a, m.User.ID, []tokend.GroupID{security.ID}); err != nil {
			t.Fatal(err)
		}
		sec, err := svc.SessionPrincipal(ctx, m.User.ID, a)
		if err != nil {
			t.Fatal(err)
		}
		team, err := svc.CreateGroup(ctx, sec, a, tokend.GroupInput{Name: "Team"})
		if err != nil {
			t.Fatalf("a Security Admin creating a group: %v", err)
		}
		gs, _, err := svc.ListGroups(ctx, owner, a, tokend.GroupFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var admins *tokend.Group
		for _, g := range gs {
			for _, gr := range g.Grants() {
				if gr.Set == perm.AccountAdmin {
					admins = g
				}
			}
		}
		if admins == nil {
			t.Fatal("the owner has no account_admin group")
		}
		tests := []struct {
			name string
			do   func() error
			want tokend.Code
		}{
			{"account_admin on a group", func() error {
				_, err := svc.SetGroupPermissions(ctx, sec, a, team.ID, []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}})
				return err
			}, tokend.EForbidden},
			{"joining the admins' group", func() error {
				_, err := svc.AssignGroups(ctx, sec, a, m.User.ID, []tokend.GroupID{security.ID, admins.ID})
				return err
			}, tokend.EForbidden},
			{"what it holds, on a group", func() error {
				_, err := svc.SetGroupPermissions(ctx, sec, a, team.ID, []perm.Grant{{Set: perm.SecurityAdmin, AllProjects: true}})
				return err
			}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, err := svc.Group(ctx, owner, a, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				err = tt.do()
				if got := tokend.ErrorCode(err); got != tt.want {
					t.Fatalf("got %q (%v), want %q", got, err, tt.want)
				}
				if tt.want == "" {
					return
				}
				after, err := svc.Group(ctx, owner, a, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(after.Grants()) != len(before.Grants()) {
					t.Errorf("the group's grants: got %v, want %v unchanged", after.Grants(), before.Grants())
				}
				again, err := svc.SessionPrincipal(ctx, m.User.ID, a)
				if err != nil {
					t.Fatal(err)
				}
				if again.Covers(perm.Grant{Set: perm.AccountAdmin, AllProjects: true}) {
					t.Error("the Security Admin became an account admin")
				}
			})
		}
	})
}

// TestSharedRightsFollowEachUser: cached principals that may do the same share one copy of
// their rights, across tokens and users, and a change of one user's groups reaches that
// user's cached tokens and no one else's, on SQLite and PostgreSQL.
func TestSharedRightsFollowEachUser(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		svc, _, ps := twoAccounts(t, st)
		ctx := t.Context()
		owner := ps[0]
		a := owner.AccountID
		team := groupWith(t, svc, owner, "Team", perm.Grant{Set: perm.Developer, AllProjects: true})
		const pw = "a long enough password"
		var tokens []string // x's two, then y's
		var users [2]tokend.UserID
		for i, email := range []string{"x@example.com", "y@example.com"} {
			m, _, err := svc.AddUser(ctx, owner, a, tokend.AddUserInput{Email: email, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			users[i] = m.User.ID
			if _, err := svc.AssignGroups(ctx, owner, a, m.User.ID, []tokend.GroupID{team.ID}); err != nil {
				t.Fatal(err)
			}
			for range 2 - i {
				_, raw, err := svc.CreatePATWithPassword(ctx, a, m.User.ID, email, pw, tokend.PATInput{Name: "t"})
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, raw)
			}
		}
		auth := func(raw string) *tokend.Principal {
			t.Helper()
			p, err := svc.Authenticate(ctx, raw, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		reads := func(p *tokend.Principal) bool { return p.Can(perm.Projects, perm.Read, 0) }
		x1, x2, y := auth(tokens[0]), auth(tokens[1]), auth(tokens[2])
		if !tokend.SameRights(x1, x2) || !tokend.SameRights(x1, y) {
			t.Errorf("the same group and license: got copies of the rights, want one shared")
		}
		if !reads(x1) || !reads(y) {
			t.Fatalf("before: got x %v, y %v reading every project, want true and true", reads(x1), reads(y))
		}

		if _, err := svc.AssignGroups(ctx, owner, a, users[0], nil); err != nil {
			t.Fatal(err)
		}
		for i, raw := range tokens[:2] {
			if p := auth(raw); reads(p) {
				t.Errorf("x's token %d out of the group: got a principal reading every project, want none", i+1)
			}
		}
		if p := auth(tokens[2]); p != y || !reads(p) {
			t.Errorf("y, still in the group: got a new principal (%v) or one not reading (%v), want the cached one reading", p != y, !reads(p))
		}

		if _, err := svc.AssignGroups(ctx, owner, a, users[0], []tokend.GroupID{team.ID}); err != nil {
			t.Fatal(err)
		}
		if x := auth(tokens[0]); !reads(x) || !tokend.SameRights(x, y) {
			t.Errorf("x back in the group: got reading %v, sharing y's rights %v, want true and true", reads(x), tokend.SameRights(x, y))
		}
	})
}
