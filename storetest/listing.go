package storetest

import (
	"testing"
	"time"

	"tokend"
)

// testListing checks dbt's id filters (pk, pk__gt, pk__in) and order_by on the lists that take
// them: projects, groups and an account's members.
func testListing(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)

	// Projects named against their creation order, so that name order differs from id order.
	names := []string{"delta", "Alpha", "charlie", "bravo"}
	var ps []tokend.ProjectID
	for i, n := range names {
		p := &tokend.Project{AccountID: a.ID, Name: n, State: tokend.StateActive, CreatedAt: at(time.Duration(len(names)-i) * time.Hour), UpdatedAt: base}
		must(t, st.CreateProject(ctx, p), "CreateProject")
		ps = append(ps, p.ID)
	}
	foreign := mustProject(t, st, b.ID)
	projects := []struct {
		name      string
		f         tokend.ProjectFilter
		want      []tokend.ProjectID
		wantTotal int
	}{
		{"pk", tokend.ProjectFilter{Select: tokend.IDSelect{Eq: int64(ps[2])}}, ps[2:3], 1},
		{"pk of another account", tokend.ProjectFilter{Select: tokend.IDSelect{Eq: int64(foreign.ID)}}, nil, 0},
		{"pk__gt", tokend.ProjectFilter{Select: tokend.IDSelect{Gt: int64(ps[1])}}, ps[2:], 2},
		{"pk__in", tokend.ProjectFilter{Select: tokend.IDSelect{In: plain(ps[3], ps[0], foreign.ID)}}, []tokend.ProjectID{ps[0], ps[3]}, 2},
		{"empty pk__in", tokend.ProjectFilter{Select: tokend.IDSelect{In: []int64{}}}, nil, 0},
		{"pk__in within visible ids", tokend.ProjectFilter{IDs: ps[:2], Select: tokend.IDSelect{In: plain(ps[1:]...)}}, ps[1:2], 1},
		{"pk__gt and pk__in", tokend.ProjectFilter{Select: tokend.IDSelect{Gt: int64(ps[0]), In: plain(ps[:2]...)}}, ps[1:2], 1},
		{"by name, case-insensitive", tokend.ProjectFilter{Order: tokend.Order{Field: "name"}}, []tokend.ProjectID{ps[1], ps[3], ps[2], ps[0]}, 4},
		{"by name descending", tokend.ProjectFilter{Order: tokend.Order{Field: "name", Desc: true}}, []tokend.ProjectID{ps[0], ps[2], ps[3], ps[1]}, 4},
		{"by created_at", tokend.ProjectFilter{Order: tokend.Order{Field: "created_at"}}, []tokend.ProjectID{ps[3], ps[2], ps[1], ps[0]}, 4},
		{"by id descending", tokend.ProjectFilter{Order: tokend.Order{Field: "id", Desc: true}}, []tokend.ProjectID{ps[3], ps[2], ps[1], ps[0]}, 4},
		{"ordered page", tokend.ProjectFilter{Order: tokend.Order{Field: "name"}, Page: tokend.Page{Limit: 2, Offset: 1}}, []tokend.ProjectID{ps[3], ps[2]}, 4},
	}
	for _, tt := range projects {
		t.Run("projects "+tt.name, func(t *testing.T) {
			tt.f.AccountID = a.ID
			got, total, err := st.ListProjects(ctx, tt.f)
			must(t, err, "ListProjects")
			wantIDs(t, "ListProjects", ids(got, projectID), tt.want)
			if total != tt.wantTotal {
				t.Errorf("ListProjects total: got %d, want %d", total, tt.wantTotal)
			}
		})
	}

	var gs []tokend.GroupID
	for _, n := range names {
		g := &tokend.Group{AccountID: a.ID, Name: n, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		must(t, st.CreateGroup(ctx, g), "CreateGroup")
		gs = append(gs, g.ID)
	}
	groups := []struct {
		name string
		f    tokend.GroupFilter
		want []tokend.GroupID
	}{
		{"pk", tokend.GroupFilter{Select: tokend.IDSelect{Eq: int64(gs[1])}}, gs[1:2]},
		{"pk__in", tokend.GroupFilter{Select: tokend.IDSelect{In: plain(gs[2], gs[0])}}, []tokend.GroupID{gs[0], gs[2]}},
		{"empty pk__in", tokend.GroupFilter{Select: tokend.IDSelect{In: []int64{}}}, nil},
		{"by name descending", tokend.GroupFilter{Order: tokend.Order{Field: "name", Desc: true}}, []tokend.GroupID{gs[0], gs[2], gs[3], gs[1]}},
	}
	for _, tt := range groups {
		t.Run("groups "+tt.name, func(t *testing.T) {
			tt.f.AccountID = a.ID
			got, _, err := st.ListGroups(ctx, tt.f)
			must(t, err, "ListGroups")
			wantIDs(t, "ListGroups", ids(got, func(g *tokend.Group) tokend.GroupID { return g.ID }), tt.want)
		})
	}

	// Members ordered by their users' e-mail, first and last names (not by membership id).
	people := []struct{ email, first, last string }{
		{"zed@example.com", "Ann", "Young"}, {"Bob@example.com", "cid", "Xu"}, {"amy@example.com", "Dee", "abel"},
	}
	var us []tokend.UserID
	for _, p := range people {
		u := &tokend.User{Email: p.email, FirstName: p.first, LastName: p.last, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		must(t, st.CreateUser(ctx, u), "CreateUser")
		mustMembership(t, st, a.ID, u.ID)
		us = append(us, u.ID)
	}
	members := []struct {
		name string
		o    tokend.Order
		want []tokend.UserID
	}{
		{"by id", tokend.Order{}, us},
		{"by email", tokend.Order{Field: "email"}, []tokend.UserID{us[2], us[1], us[0]}},
		{"by email descending", tokend.Order{Field: "email", Desc: true}, []tokend.UserID{us[0], us[1], us[2]}},
		{"by first_name", tokend.Order{Field: "first_name"}, []tokend.UserID{us[0], us[1], us[2]}},
		{"by last_name", tokend.Order{Field: "last_name"}, []tokend.UserID{us[2], us[1], us[0]}},
	}
	for _, tt := range members {
		t.Run("members "+tt.name, func(t *testing.T) {
			got, _, err := st.ListMemberships(ctx, tokend.MembershipFilter{AccountID: a.ID, Order: tt.o})
			must(t, err, "ListMemberships")
			wantIDs(t, "ListMemberships", ids(got, func(m *tokend.Membership) tokend.UserID { return m.UserID }), tt.want)
		})
	}
}
