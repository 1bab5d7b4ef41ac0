package storetest

import (
	"testing"
	"time"

	"tokend"
)

func testProjects(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		p := &tokend.Project{AccountID: a.ID, Name: "Analytics", Description: "The warehouse models.",
			Type: tokend.ProjectHybrid, Subdirectory: "analytics/dbt",
			Refs:  tokend.ProjectRefs{ConnectionID: 11, RepositoryID: 12, SemanticLayerConfigID: 13, DocsJobID: 14, FreshnessJobID: 15},
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: at(time.Second)}
		must(t, st.CreateProject(ctx, p), "CreateProject")
		if p.ID <= 0 {
			t.Fatalf("CreateProject: got ID %d, want > 0", p.ID)
		}
		got, err := st.Project(ctx, a.ID, p.ID)
		must(t, err, "Project")
		projectDiff(got, p).report(t, "Project")
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		p := mustProject(t, st, a.ID)
		_, err := st.Project(ctx, a.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "Project(missing)")
		_, err = st.Project(ctx, b.ID, p.ID)
		wantCode(t, err, tokend.ENotFound, "Project(other account's id)")
		err = st.UpdateProject(ctx, &tokend.Project{ID: 999999, AccountID: a.ID, Name: "x",
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: base})
		wantCode(t, err, tokend.ENotFound, "UpdateProject(missing)")
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		p := mustProject(t, st, a.ID)
		p.Name = "Renamed"
		p.Description = "Now described."
		p.Type, p.Subdirectory = tokend.ProjectHybrid, "models"
		p.Refs = tokend.ProjectRefs{RepositoryID: 7, DocsJobID: 8}
		p.State = tokend.StateDeleted
		p.UpdatedAt = at(time.Hour)
		must(t, st.UpdateProject(ctx, p), "UpdateProject")
		got, err := st.Project(ctx, a.ID, p.ID)
		must(t, err, "Project")
		projectDiff(got, p).report(t, "after update")

		p.Type, p.Subdirectory, p.Refs = tokend.ProjectDefault, "", tokend.ProjectRefs{}
		must(t, st.UpdateProject(ctx, p), "UpdateProject(clear)")
		got, err = st.Project(ctx, a.ID, p.ID)
		must(t, err, "Project")
		projectDiff(got, p).report(t, "after clearing")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		var all, active, deleted []tokend.ProjectID
		for i := range 6 {
			p := mustProject(t, st, a.ID)
			if i%3 == 2 {
				p.State = tokend.StateDeleted
				must(t, st.UpdateProject(ctx, p), "UpdateProject")
				deleted = append(deleted, p.ID)
			} else {
				active = append(active, p.ID)
			}
			all = append(all, p.ID)
		}
		foreign := mustProject(t, st, b.ID)

		tests := []struct {
			name      string
			f         tokend.ProjectFilter
			want      []tokend.ProjectID
			wantTotal int
		}{
			{"any state", tokend.ProjectFilter{AccountID: a.ID}, all, 6},
			{"active", tokend.ProjectFilter{AccountID: a.ID, State: tokend.StateActive}, active, 4},
			{"deleted", tokend.ProjectFilter{AccountID: a.ID, State: tokend.StateDeleted}, deleted, 2},
			{"ids", tokend.ProjectFilter{AccountID: a.ID, IDs: []tokend.ProjectID{all[4], all[0], all[2]}},
				[]tokend.ProjectID{all[0], all[2], all[4]}, 3},
			{"ids and state", tokend.ProjectFilter{AccountID: a.ID, State: tokend.StateActive,
				IDs: []tokend.ProjectID{all[0], all[2]}}, []tokend.ProjectID{all[0]}, 1},
			// A non-nil empty IDs is "none of them", not "no filter".
			{"empty ids", tokend.ProjectFilter{AccountID: a.ID, IDs: []tokend.ProjectID{}}, nil, 0},
			{"ids of another account", tokend.ProjectFilter{AccountID: a.ID, IDs: []tokend.ProjectID{foreign.ID}}, nil, 0},
			{"first page", tokend.ProjectFilter{AccountID: a.ID, Page: tokend.Page{Limit: 4}}, all[:4], 6},
			{"second page", tokend.ProjectFilter{AccountID: a.ID, Page: tokend.Page{Limit: 4, Offset: 4}}, all[4:], 6},
			{"page of ids", tokend.ProjectFilter{AccountID: a.ID, IDs: all[1:5], Page: tokend.Page{Limit: 2, Offset: 1}},
				all[2:4], 4},
			{"past the end", tokend.ProjectFilter{AccountID: a.ID, Page: tokend.Page{Offset: 10}}, nil, 6},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := st.ListProjects(ctx, tt.f)
				must(t, err, "ListProjects")
				wantIDs(t, "ListProjects", ids(got, projectID), tt.want)
				if total != tt.wantTotal {
					t.Errorf("ListProjects total: got %d, want %d", total, tt.wantTotal)
				}
			})
		}
		got, _, err := st.ListProjects(ctx, tokend.ProjectFilter{AccountID: b.ID})
		must(t, err, "ListProjects")
		if len(got) == 1 {
			projectDiff(got[0], foreign).report(t, "ListProjects[0]")
		}
	})
}

// testPagination checks the page defaults and cap shared by every list, on projects.
func testPagination(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	var all []tokend.ProjectID
	err := st.Tx(ctx, func(st tokend.Store) error {
		for range 120 {
			p := &tokend.Project{AccountID: a.ID, Name: "Project " + unique(), State: tokend.StateActive,
				CreatedAt: base, UpdatedAt: base}
			if err := st.CreateProject(ctx, p); err != nil {
				return err
			}
			all = append(all, p.ID)
		}
		return nil
	})
	must(t, err, "create 120 projects")

	tests := []struct {
		name string
		page tokend.Page
		want []tokend.ProjectID
	}{
		{"zero limit is the default 100", tokend.Page{}, all[:tokend.DefaultLimit]},
		{"limit over the cap is capped", tokend.Page{Limit: 150}, all[:tokend.MaxLimit]},
		{"exact cap", tokend.Page{Limit: 100}, all[:100]},
		{"default limit with offset", tokend.Page{Offset: 100}, all[100:]},
		{"capped limit with offset", tokend.Page{Limit: 1000, Offset: 10}, all[10:110]},
		{"small page", tokend.Page{Limit: 7, Offset: 113}, all[113:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := st.ListProjects(ctx, tokend.ProjectFilter{AccountID: a.ID, Page: tt.page})
			must(t, err, "ListProjects")
			wantIDs(t, "ListProjects", ids(got, projectID), tt.want)
			if total != 120 {
				t.Errorf("ListProjects total: got %d, want 120", total)
			}
		})
	}
}
