package storetest

import (
	"testing"

	"tokend"
)

// testNameFilters covers the name filters clients such as the Terraform provider's data
// sources send: an exact group name, and a case-insensitive substring of group and project
// names.
func testNameFilters(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	for _, name := range []string{"Analytics Engineers", "analytics readers", "Finance"} {
		must(t, st.CreateGroup(ctx, &tokend.Group{AccountID: a.ID, Name: name, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}), "CreateGroup")
		must(t, st.CreateProject(ctx, &tokend.Project{AccountID: a.ID, Name: name, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}), "CreateProject")
	}
	must(t, st.CreateGroup(ctx, &tokend.Group{AccountID: b.ID, Name: "Analytics Engineers", State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}), "CreateGroup")

	groups := []struct {
		name string
		f    tokend.GroupFilter
		want int
	}{
		{"exact", tokend.GroupFilter{AccountID: a.ID, Name: "Finance"}, 1},
		{"exact is case-sensitive", tokend.GroupFilter{AccountID: a.ID, Name: "finance"}, 0},
		{"contains, any case", tokend.GroupFilter{AccountID: a.ID, NameContains: "ANALYTICS"}, 2},
		{"contains nothing", tokend.GroupFilter{AccountID: a.ID, NameContains: "ops"}, 0},
		{"both", tokend.GroupFilter{AccountID: a.ID, Name: "Finance", NameContains: "fin"}, 1},
	}
	for _, tt := range groups {
		t.Run("groups "+tt.name, func(t *testing.T) {
			got, total, err := st.ListGroups(ctx, tt.f)
			must(t, err, "ListGroups")
			if len(got) != tt.want || total != tt.want {
				t.Errorf("got %d groups (total %d), want %d", len(got), total, tt.want)
			}
		})
	}
	t.Run("projects contains, any case", func(t *testing.T) {
		got, total, err := st.ListProjects(ctx, tokend.ProjectFilter{AccountID: a.ID, NameContains: "Analytics"})
		must(t, err, "ListProjects")
		if len(got) != 2 || total != 2 {
			t.Errorf("got %d projects (total %d), want 2", len(got), total)
		}
	})
}

// testGroupNameUnique: an account's active groups have distinct names whatever their case; a
// deleted group's name is free again, and other accounts are separate.
func testGroupNameUnique(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	mk := func(accountID tokend.AccountID, name string, state tokend.State) error {
		return st.CreateGroup(ctx, &tokend.Group{AccountID: accountID, Name: name, State: state, CreatedAt: base, UpdatedAt: base})
	}
	must(t, mk(a.ID, "Data Team", tokend.StateActive), "CreateGroup")
	wantCode(t, mk(a.ID, "data team", tokend.StateActive), tokend.EConflict, "CreateGroup(same name, other case)")
	must(t, mk(b.ID, "Data Team", tokend.StateActive), "CreateGroup(other account)")
	must(t, mk(a.ID, "DATA TEAM", tokend.StateDeleted), "CreateGroup(deleted)")
}
