package tokend_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// listCountingStore counts the project lists that reach the real store it wraps.
type listCountingStore struct {
	tokend.Store
	lists atomic.Int64
}

func (c *listCountingStore) ListProjects(ctx context.Context, f tokend.ProjectFilter) ([]*tokend.Project, int, error) {
	c.lists.Add(1)
	return c.Store.ListProjects(ctx, f)
}

// caughtUp waits until svc trusts its caches and has applied every feed entry st holds now, so
// that what a test then has svc cache is not dropped by an older entry, and svc's
// verifications are not read-throughs, which a loaded machine may time out.
func caughtUp(tb testing.TB, svc *tokend.Service, st tokend.Store) {
	tb.Helper()
	head, err := st.FeedHead(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		if s := svc.Stats(); s.CachesTrusted && s.FeedSeq >= head {
			return
		}
		if i >= 1000 || time.Now().After(deadline) {
			tb.Fatalf("the node did not apply the feed up to entry %d within 10s", head)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func projectIDs(ps []*tokend.Project) []tokend.ProjectID {
	ids := make([]tokend.ProjectID, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// TestProjectListFromMemory: a plain list (ordered by id, filtered by state and by the
// principal's projects, paged) is answered from memory with what the store answers, reads
// the store once, and shows the node's own project writes at once.
func TestProjectListFromMemory(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			raw, _ := open(t)
			st := &listCountingStore{Store: raw}
			svc := tokend.NewService(st, tokend.Options{Logger: quietLog, PasswordParams: cheap})
			owner, err := svc.Authenticate(ctx, ownerToken(t, svc), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			acct := owner.AccountID
			var made []*tokend.Project
			for i := range 7 {
				p, err := svc.CreateProject(ctx, owner, acct, tokend.ProjectInput{Name: fmt.Sprintf("p%d", i)})
				if err != nil {
					t.Fatal(err)
				}
				made = append(made, p)
			}
			for _, p := range []*tokend.Project{made[1], made[4]} {
				if _, err := svc.DeleteProject(ctx, owner, acct, p.ID); err != nil {
					t.Fatal(err)
				}
			}
			// A service token that reads three projects, one of them deleted.
			_, rawScoped, err := svc.CreateServiceToken(ctx, owner, acct, tokend.ServiceTokenInput{Name: "scoped",
				Grants: []perm.Grant{{Set: perm.Developer, ProjectID: int64(made[0].ID)},
					{Set: perm.Developer, ProjectID: int64(made[4].ID)}, {Set: perm.Developer, ProjectID: int64(made[5].ID)}}})
			if err != nil {
				t.Fatal(err)
			}
			scoped, err := svc.Authenticate(ctx, rawScoped, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}

			// What the store answers for the same list.
			fromStore := func(p *tokend.Principal, f tokend.ProjectFilter) ([]tokend.ProjectID, int) {
				t.Helper()
				all, ids := p.ProjectIDs(perm.Projects, perm.Read)
				f.AccountID, f.IDs, f.Page = acct, nil, f.Page.Normalize()
				if !all {
					f.IDs = ids
				}
				ps, total, err := raw.ListProjects(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				return projectIDs(ps), total
			}
			for _, tc := range []struct {
				name string
				p    *tokend.Principal
				f    tokend.ProjectFilter
			}{
				{"owner, active", owner, tokend.ProjectFilter{State: tokend.StateActive}},
				{"owner, every state", owner, tokend.ProjectFilter{}},
				{"owner, deleted", owner, tokend.ProjectFilter{State: tokend.StateDeleted}},
				{"owner, order by id", owner, tokend.ProjectFilter{Order: tokend.Order{Field: "id"}}},
				{"owner, first page", owner, tokend.ProjectFilter{State: tokend.StateActive, Page: tokend.Page{Limit: 2}}},
				{"owner, middle page", owner, tokend.ProjectFilter{State: tokend.StateActive, Page: tokend.Page{Limit: 2, Offset: 2}}},
				{"owner, last page", owner, tokend.ProjectFilter{State: tokend.StateActive, Page: tokend.Page{Limit: 2, Offset: 4}}},
				{"owner, past the end", owner, tokend.ProjectFilter{State: tokend.StateActive, Page: tokend.Page{Limit: 2, Offset: 50}}},
				{"scoped, active", scoped, tokend.ProjectFilter{State: tokend.StateActive}},
				{"scoped, every state", scoped, tokend.ProjectFilter{}},
				{"scoped, second page", scoped, tokend.ProjectFilter{Page: tokend.Page{Limit: 1, Offset: 1}}},
				{"scoped, past the end", scoped, tokend.ProjectFilter{Page: tokend.Page{Limit: 1, Offset: 9}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ps, total, err := svc.ListProjects(ctx, tc.p, acct, tc.f)
					if err != nil {
						t.Fatal(err)
					}
					wantIDs, wantTotal := fromStore(tc.p, tc.f)
					if got := projectIDs(ps); !slices.Equal(got, wantIDs) || total != wantTotal {
						t.Errorf("got %v (total %d), want %v (total %d)", got, total, wantIDs, wantTotal)
					}
				})
			}

			before := st.lists.Load()
			for range 5 {
				if _, _, err := svc.ListProjects(ctx, owner, acct, tokend.ProjectFilter{}); err != nil {
					t.Fatal(err)
				}
			}
			if got := st.lists.Load() - before; got != 0 {
				t.Errorf("store lists for 5 cached lists: got %d, want 0", got)
			}

			// The node's own writes show at once.
			renamed := "renamed"
			if _, err := svc.UpdateProject(ctx, owner, acct, made[0].ID, tokend.ProjectUpdate{Name: &renamed}); err != nil {
				t.Fatal(err)
			}
			added, err := svc.CreateProject(ctx, owner, acct, tokend.ProjectInput{Name: "added"})
			if err != nil {
				t.Fatal(err)
			}
			ps, total, err := svc.ListProjects(ctx, owner, acct, tokend.ProjectFilter{State: tokend.StateActive})
			if err != nil {
				t.Fatal(err)
			}
			if total != 6 || ps[0].Name != renamed || ps[len(ps)-1].ID != added.ID {
				t.Errorf("after a rename and a create: got %v (total %d, first %q), want 6 ending with %d, first %q",
					projectIDs(ps), total, ps[0].Name, added.ID, renamed)
			}
		})
	}
}

// TestProjectListAcrossNodes runs two nodes on one database: node B, its list in memory, shows
// a project created, renamed or deleted on node A once its feed has been read.
func TestProjectListAcrossNodes(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			stA, stB := open(t)
			opts := tokend.Options{FeedPollInterval: 10 * time.Millisecond}
			a := startNode(t, stA, opts)
			b := startNode(t, stB, opts)
			tok := ownerToken(t, a)
			caughtUp(t, a, stA)
			caughtUp(t, b, stA)
			pa, err := a.Authenticate(ctx, tok, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			pb, err := b.Authenticate(ctx, tok, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			acct := pa.AccountID
			list := func() []*tokend.Project {
				ps, _, err := b.ListProjects(ctx, pb, acct, tokend.ProjectFilter{State: tokend.StateActive})
				if err != nil {
					t.Fatal(err)
				}
				return ps
			}
			// waitFor polls B's list, a bounded number of times, until ok holds.
			waitFor := func(what string, ok func([]*tokend.Project) bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for i := 0; ; i++ {
					ps := list()
					if ok(ps) {
						return
					}
					if i >= 1000 || time.Now().After(deadline) {
						t.Fatalf("node B's list after %s on node A: got %v", what, projectIDs(ps))
					}
					time.Sleep(10 * time.Millisecond)
					// B's principal may have been dropped with the account's cached state.
					if pb, err = b.Authenticate(ctx, tok, "127.0.0.1"); err != nil {
						t.Fatal(err)
					}
				}
			}

			list() // B holds the account's projects (none) in memory
			made, err := a.CreateProject(ctx, pa, acct, tokend.ProjectInput{Name: "made on A"})
			if err != nil {
				t.Fatal(err)
			}
			waitFor("a create", func(ps []*tokend.Project) bool { return len(ps) == 1 && ps[0].ID == made.ID })
			renamed := "renamed on A"
			if _, err := a.UpdateProject(ctx, pa, acct, made.ID, tokend.ProjectUpdate{Name: &renamed}); err != nil {
				t.Fatal(err)
			}
			waitFor("a rename", func(ps []*tokend.Project) bool { return len(ps) == 1 && ps[0].Name == renamed })
			if _, err := a.DeleteProject(ctx, pa, acct, made.ID); err != nil {
				t.Fatal(err)
			}
			waitFor("a deletion", func(ps []*tokend.Project) bool { return len(ps) == 0 })
		})
	}
}

// TestProjectChangesKeepTokensCached runs two nodes on one database: a project created, renamed
// or deleted on node A reaches node B's projects list, while B keeps answering the account's
// token and its account row from memory, without reading either from the store. A project's
// grants do not change with it (a deleted project's grants stay, inert), so nothing a cached
// principal holds goes stale; what a deleted project stops is answered from its row.
func TestProjectChangesKeepTokensCached(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			stA, stB := open(t)
			counted := &countingStore{Store: stB}
			// Caches stay trusted for the whole test even on a loaded machine: a lapse would
			// read the store for reasons of its own.
			opts := tokend.Options{FeedPollInterval: 10 * time.Millisecond, FeedStaleAfter: time.Hour}
			a := startNode(t, stA, opts)
			b := startNode(t, counted, opts)
			tok := ownerToken(t, a)
			caughtUp(t, a, stA)
			caughtUp(t, b, stA)
			pa, err := a.Authenticate(ctx, tok, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			acct := pa.AccountID
			warm(t, b, tok)
			pb, err := b.Authenticate(ctx, tok, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			list := func() []*tokend.Project {
				ps, _, err := b.ListProjects(ctx, pb, acct, tokend.ProjectFilter{State: tokend.StateActive})
				if err != nil {
					t.Fatal(err)
				}
				return ps
			}
			list() // B holds the account's projects (none) in memory

			var made *tokend.Project
			renamed := "renamed on A"
			steps := []struct {
				name   string
				change func() error
				seen   func([]*tokend.Project) bool
			}{
				{"create", func() (err error) {
					made, err = a.CreateProject(ctx, pa, acct, tokend.ProjectInput{Name: "made on A"})
					return err
				}, func(ps []*tokend.Project) bool { return len(ps) == 1 && ps[0].ID == made.ID }},
				{"rename", func() error {
					_, err := a.UpdateProject(ctx, pa, acct, made.ID, tokend.ProjectUpdate{Name: &renamed})
					return err
				}, func(ps []*tokend.Project) bool { return len(ps) == 1 && ps[0].Name == renamed }},
				{"delete", func() error {
					_, err := a.DeleteProject(ctx, pa, acct, made.ID)
					return err
				}, func(ps []*tokend.Project) bool { return len(ps) == 0 }},
			}
			for _, step := range steps {
				if err := step.change(); err != nil {
					t.Fatalf("project %s on A: %v", step.name, err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for i := 0; !step.seen(list()); i++ {
					if i >= 1000 || time.Now().After(deadline) {
						t.Fatalf("node B's list after a project %s on A: got %v", step.name, projectIDs(list()))
					}
					time.Sleep(10 * time.Millisecond)
				}
				// B has applied the change: its token and account row are still in memory.
				lookups, accounts := counted.byHash.Load(), counted.accounts.Load()
				if _, err := b.Authenticate(ctx, tok, "127.0.0.1"); err != nil {
					t.Fatalf("B's token after a project %s: %v", step.name, err)
				}
				if _, err := b.Account(ctx, pb, acct); err != nil {
					t.Fatalf("B's account after a project %s: %v", step.name, err)
				}
				if got := counted.byHash.Load() - lookups; got != 0 {
					t.Errorf("after a project %s on A, token lookups in B's store: got %d, want 0", step.name, got)
				}
				if got := counted.accounts.Load() - accounts; got != 0 {
					t.Errorf("after a project %s on A, account reads in B's store: got %d, want 0", step.name, got)
				}
			}
			// The deleted project is out of reach on B, the cached principal's grant of every
			// project notwithstanding.
			if _, err := b.Project(ctx, pb, acct, made.ID); tokend.ErrorCode(err) != tokend.ENotFound {
				t.Errorf("B's read of the deleted project: got %v, want not found", err)
			}
		})
	}
}
