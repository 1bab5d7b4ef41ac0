package storetest

import (
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func testGroups(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		tests := []struct {
			name string
			g    tokend.Group
		}{
			{"plain", tokend.Group{Name: "Owner", State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}},
			{"sso and default", tokend.Group{Name: "Everyone", AssignByDefault: true,
				SSOMappingGroups: []string{"okta-everyone", "okta-eng"}, State: tokend.StateActive,
				CreatedAt: base, UpdatedAt: at(time.Second)}},
			{"empty sso", tokend.Group{Name: "Empty SSO", SSOMappingGroups: []string{},
				State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := tt.g
				g.AccountID = a.ID
				must(t, st.CreateGroup(ctx, &g), "CreateGroup")
				if g.ID <= 0 {
					t.Fatalf("CreateGroup: got ID %d, want > 0", g.ID)
				}
				got, err := st.Group(ctx, a.ID, g.ID)
				must(t, err, "Group")
				groupDiff(got, &g).report(t, "Group")
				if len(got.Permissions) != 0 {
					t.Errorf("new group: got %d permissions, want 0", len(got.Permissions))
				}
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		g := mustGroup(t, st, a.ID)
		_, err := st.Group(ctx, a.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "Group(missing)")
		_, err = st.Group(ctx, b.ID, g.ID)
		wantCode(t, err, tokend.ENotFound, "Group(other account's id)")
		err = st.UpdateGroup(ctx, &tokend.Group{ID: 999999, AccountID: a.ID, Name: "x",
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: base})
		wantCode(t, err, tokend.ENotFound, "UpdateGroup(missing)")
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		g := mustGroup(t, st, a.ID)
		g.Name = "Renamed"
		g.AssignByDefault = true
		g.SSOMappingGroups = []string{"azure-admins"}
		g.UpdatedAt = at(time.Hour)
		must(t, st.UpdateGroup(ctx, g), "UpdateGroup")
		got, err := st.Group(ctx, a.ID, g.ID)
		must(t, err, "Group")
		groupDiff(got, g).report(t, "after update")

		g.SSOMappingGroups = nil
		g.AssignByDefault = false
		g.State = tokend.StateDeleted
		g.UpdatedAt = at(2 * time.Hour)
		must(t, st.UpdateGroup(ctx, g), "UpdateGroup")
		got, err = st.Group(ctx, a.ID, g.ID)
		must(t, err, "Group")
		groupDiff(got, g).report(t, "after clearing")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		var all, active, deleted []tokend.GroupID
		for i := range 5 {
			g := mustGroup(t, st, a.ID)
			if i == 1 || i == 4 {
				g.State = tokend.StateDeleted
				must(t, st.UpdateGroup(ctx, g), "UpdateGroup")
				deleted = append(deleted, g.ID)
			} else {
				active = append(active, g.ID)
			}
			all = append(all, g.ID)
		}
		mustGroup(t, st, b.ID)

		tests := []struct {
			name      string
			f         tokend.GroupFilter
			want      []tokend.GroupID
			wantTotal int
		}{
			{"any state", tokend.GroupFilter{AccountID: a.ID}, all, 5},
			{"active", tokend.GroupFilter{AccountID: a.ID, State: tokend.StateActive}, active, 3},
			{"deleted", tokend.GroupFilter{AccountID: a.ID, State: tokend.StateDeleted}, deleted, 2},
			{"page", tokend.GroupFilter{AccountID: a.ID, Page: tokend.Page{Limit: 2, Offset: 2}}, all[2:4], 5},
			{"active page", tokend.GroupFilter{AccountID: a.ID, State: tokend.StateActive,
				Page: tokend.Page{Limit: 2, Offset: 1}}, active[1:3], 3},
			{"unknown account", tokend.GroupFilter{AccountID: 999999}, nil, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := st.ListGroups(ctx, tt.f)
				must(t, err, "ListGroups")
				wantIDs(t, "ListGroups", ids(got, groupID), tt.want)
				if total != tt.wantTotal {
					t.Errorf("ListGroups total: got %d, want %d", total, tt.wantTotal)
				}
			})
		}
	})
}

func testGroupPermissions(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	p1 := mustProject(t, st, a.ID)
	p2 := mustProject(t, st, a.ID)
	g := mustGroup(t, st, a.ID)
	other := mustGroup(t, st, a.ID)

	first := []perm.Grant{
		{Set: perm.AccountAdmin, AllProjects: true},
		{Set: perm.JobAdmin, ProjectID: int64(p1.ID), WritableEnvironmentCategories: []string{"production", "staging"}},
		{Set: perm.Member, ProjectID: int64(p2.ID)},
		{Set: perm.Member, ProjectID: int64(p1.ID), WritableEnvironmentCategories: []string{}},
		{Set: perm.JobAdmin, AllProjects: true, WritableEnvironmentCategories: []string{"development"}},
	}
	must(t, st.SetGroupPermissions(ctx, a.ID, g.ID, first), "SetGroupPermissions")
	got, err := st.Group(ctx, a.ID, g.ID)
	must(t, err, "Group")
	groupGrantsDiff(got, first).report(t, "first set")
	firstIDs := make(map[int64]bool)
	for _, p := range got.Permissions {
		firstIDs[p.ID] = true
	}

	other1 := []perm.Grant{{Set: perm.Member, AllProjects: true}}
	must(t, st.SetGroupPermissions(ctx, a.ID, other.ID, other1), "SetGroupPermissions(other group)")

	t.Run("Replace", func(t *testing.T) {
		second := []perm.Grant{
			{Set: perm.Member, ProjectID: int64(p2.ID), WritableEnvironmentCategories: []string{"other"}},
			{Set: perm.AccountAdmin, AllProjects: true},
		}
		must(t, st.SetGroupPermissions(ctx, a.ID, g.ID, second), "SetGroupPermissions")
		got, err := st.Group(ctx, a.ID, g.ID)
		must(t, err, "Group")
		groupGrantsDiff(got, second).report(t, "after replace")
		for _, p := range got.Permissions {
			if firstIDs[p.ID] {
				t.Errorf("after replace: permission id %d of the old set is still returned", p.ID)
			}
		}
		// Another group's grants are untouched.
		got, err = st.Group(ctx, a.ID, other.ID)
		must(t, err, "Group(other)")
		groupGrantsDiff(got, other1).report(t, "other group")
	})

	t.Run("InList", func(t *testing.T) {
		// Lists return groups with their permissions too.
		list, _, err := st.ListGroups(ctx, tokend.GroupFilter{AccountID: a.ID})
		must(t, err, "ListGroups")
		for _, lg := range list {
			if lg.ID == other.ID {
				groupGrantsDiff(lg, other1).report(t, "ListGroups(other)")
			}
		}
	})

	t.Run("OtherAccount", func(t *testing.T) {
		before, err := st.Group(ctx, a.ID, g.ID)
		must(t, err, "Group")
		err = st.SetGroupPermissions(ctx, b.ID, g.ID, []perm.Grant{{Set: perm.Member, AllProjects: true}})
		wantCode(t, err, tokend.ENotFound, "SetGroupPermissions(other account)")
		err = st.SetGroupPermissions(ctx, a.ID, 999999, []perm.Grant{{Set: perm.Member, AllProjects: true}})
		wantCode(t, err, tokend.ENotFound, "SetGroupPermissions(missing group)")
		after, err := st.Group(ctx, a.ID, g.ID)
		must(t, err, "Group")
		groupGrantsDiff(after, before.Grants()).report(t, "after refused set")
	})

	t.Run("Clear", func(t *testing.T) {
		must(t, st.SetGroupPermissions(ctx, a.ID, g.ID, nil), "SetGroupPermissions(nil)")
		got, err := st.Group(ctx, a.ID, g.ID)
		must(t, err, "Group")
		if len(got.Permissions) != 0 {
			t.Errorf("after clearing: got %d permissions %v, want 0", len(got.Permissions), got.Grants())
		}
	})
}

func testUserGroups(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	u := mustUser(t, st)
	v := mustUser(t, st)
	mustMembership(t, st, a.ID, u.ID)
	mustMembership(t, st, b.ID, u.ID)
	mustMembership(t, st, a.ID, v.ID)
	g1, g2, g3 := mustGroup(t, st, a.ID), mustGroup(t, st, a.ID), mustGroup(t, st, a.ID)
	gb := mustGroup(t, st, b.ID)
	g1Grants := []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}}
	must(t, st.SetGroupPermissions(ctx, a.ID, g1.ID, g1Grants), "SetGroupPermissions")

	// Contract: GroupsOfUser returns the groups ordered by id.
	check := func(t *testing.T, accountID tokend.AccountID, userID tokend.UserID, want ...tokend.GroupID) {
		t.Helper()
		got, err := st.GroupsOfUser(ctx, accountID, userID)
		must(t, err, "GroupsOfUser")
		wantIDs(t, "GroupsOfUser", ids(got, groupID), want)
	}

	steps := []struct {
		name      string
		accountID tokend.AccountID
		userID    tokend.UserID
		set       []tokend.GroupID
		wantCode  tokend.Code // empty: the set succeeds
		// What GroupsOfUser then returns for u in a and in b.
		wantA, wantB []tokend.GroupID
	}{
		{"set two", a.ID, u.ID, []tokend.GroupID{g2.ID, g1.ID}, "", []tokend.GroupID{g1.ID, g2.ID}, nil},
		{"replace", a.ID, u.ID, []tokend.GroupID{g2.ID, g3.ID}, "", []tokend.GroupID{g2.ID, g3.ID}, nil},
		{"other account is separate", b.ID, u.ID, []tokend.GroupID{gb.ID}, "", []tokend.GroupID{g2.ID, g3.ID}, []tokend.GroupID{gb.ID}},
		{"another user is separate", a.ID, v.ID, []tokend.GroupID{g1.ID}, "", []tokend.GroupID{g2.ID, g3.ID}, []tokend.GroupID{gb.ID}},
		{"group of another account", a.ID, u.ID, []tokend.GroupID{g1.ID, gb.ID}, tokend.ENotFound,
			[]tokend.GroupID{g2.ID, g3.ID}, []tokend.GroupID{gb.ID}},
		{"missing group", a.ID, u.ID, []tokend.GroupID{g1.ID, 999999}, tokend.ENotFound, []tokend.GroupID{g2.ID, g3.ID}, []tokend.GroupID{gb.ID}},
		{"back to one", a.ID, u.ID, []tokend.GroupID{g1.ID}, "", []tokend.GroupID{g1.ID}, []tokend.GroupID{gb.ID}},
		{"all three", a.ID, u.ID, []tokend.GroupID{g1.ID, g2.ID, g3.ID}, "", []tokend.GroupID{g1.ID, g2.ID, g3.ID}, []tokend.GroupID{gb.ID}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := st.SetUserGroups(ctx, s.accountID, s.userID, s.set)
			if s.wantCode == "" {
				must(t, err, "SetUserGroups")
			} else {
				wantCode(t, err, s.wantCode, "SetUserGroups")
			}
			check(t, a.ID, u.ID, s.wantA...)
			check(t, b.ID, u.ID, s.wantB...)
		})
	}
	check(t, a.ID, v.ID, g1.ID)

	t.Run("WithPermissions", func(t *testing.T) {
		got, err := st.GroupsOfUser(ctx, a.ID, u.ID)
		must(t, err, "GroupsOfUser")
		if len(got) == 0 || got[0].ID != g1.ID {
			t.Fatalf("GroupsOfUser: got %v, want g1 first", ids(got, groupID))
		}
		groupDiff(got[0], g1).report(t, "GroupsOfUser[0]")
		groupGrantsDiff(got[0], g1Grants).report(t, "GroupsOfUser[0]")
	})

	t.Run("MemberCount", func(t *testing.T) {
		// u is in g1, g2 and g3 now; v is in g1.
		for _, tc := range []struct {
			g    *tokend.Group
			want int
		}{{g1, 2}, {g2, 1}, {g3, 1}, {gb, 1}} {
			got, err := st.Group(ctx, tc.g.AccountID, tc.g.ID)
			must(t, err, "Group")
			if got.MemberCount != tc.want {
				t.Errorf("group %d: got MemberCount %d, want %d", tc.g.ID, got.MemberCount, tc.want)
			}
		}
		list, _, err := st.ListGroups(ctx, tokend.GroupFilter{AccountID: a.ID})
		must(t, err, "ListGroups")
		for _, g := range list {
			if g.ID == g1.ID && g.MemberCount != 2 {
				t.Errorf("ListGroups: group %d: got MemberCount %d, want 2", g.ID, g.MemberCount)
			}
		}
	})

	t.Run("OnlyActive", func(t *testing.T) {
		g3.State = tokend.StateDeleted
		must(t, st.UpdateGroup(ctx, g3), "UpdateGroup")
		check(t, a.ID, u.ID, g1.ID, g2.ID)
	})

	t.Run("Clear", func(t *testing.T) {
		must(t, st.SetUserGroups(ctx, a.ID, u.ID, nil), "SetUserGroups(nil)")
		check(t, a.ID, u.ID)
		check(t, b.ID, u.ID, gb.ID)
		check(t, a.ID, v.ID, g1.ID)
	})
}
