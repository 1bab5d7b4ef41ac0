package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// checkVerifyGrants fails tb when a verify_grants column (migration 00029) differs from what
// the tables it summarizes say now.
func checkVerifyGrants(tb testing.TB, st *Store) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := st.pool.Query(ctx, `
		SELECT 'token ' || id FROM tokens WHERE verify_grants IS DISTINCT FROM verify_token_grants(id)
		UNION ALL
		SELECT 'membership of user ' || user_id || ' in account ' || account_id FROM memberships
		WHERE verify_grants IS DISTINCT FROM verify_member_grants(account_id, user_id)`)
	if err != nil {
		tb.Fatalf("read verify_grants: %v", err)
	}
	stale, err := collect(rows, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	if err != nil {
		tb.Fatalf("read verify_grants: %v", err)
	}
	for _, s := range stale {
		tb.Errorf("verify_grants of %s differs from its grants", s)
	}
}

// TestVerifyGrantsConcurrentWriters writes the inputs of one member's grants from several
// transactions at once: the groups a user is in, the grants of those groups and their state.
// Each recomputation must see what the others committed, so that the columns verification
// reads end as the tables say.
func TestVerifyGrantsConcurrentWriters(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	now := time.Now()
	acct := &tokend.Account{Name: "concurrent", Plan: perm.PlanEnterprise, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateAccount(ctx, acct))
	var users []tokend.UserID
	for i := range 3 {
		u := &tokend.User{Email: fmt.Sprintf("u%d@example.com", i), State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		must(t, st.CreateUser(ctx, u))
		must(t, st.CreateMembership(ctx, &tokend.Membership{AccountID: acct.ID, UserID: u.ID,
			License: perm.LicenseDeveloper, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}))
		users = append(users, u.ID)
	}
	var groups []*tokend.Group
	for i := range 3 {
		g := &tokend.Group{AccountID: acct.ID, Name: fmt.Sprintf("g%d", i), State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		must(t, st.CreateGroup(ctx, g))
		groups = append(groups, g)
	}
	sets := []perm.Set{perm.Developer, perm.JobAdmin, perm.Analyst}
	const writers, rounds = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				g := groups[(w+r)%len(groups)]
				var err error
				switch w % 3 {
				case 0: // a user's groups
					err = st.SetUserGroups(ctx, acct.ID, users[r%len(users)], []tokend.GroupID{g.ID, groups[(r+1)%len(groups)].ID})
				case 1: // a group's grants
					err = st.SetGroupPermissions(ctx, acct.ID, g.ID, []perm.Grant{{Set: sets[r%len(sets)], AllProjects: true}})
				case 2: // a group's state
					c := *g
					c.State = tokend.StateActive
					if r%2 == 1 {
						c.State = tokend.StateDeleted
					}
					err = st.UpdateGroup(ctx, &c)
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkVerifyGrants(t, st)
}

// TestVerifyGrantsTakeTurns holds a new member of a group uncommitted while the group's grants
// are replaced: the replacement must wait for it and then count the member, or the member's
// column would miss the new grants (each transaction recomputing without the other's rows).
func TestVerifyGrantsTakeTurns(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	now := time.Now()
	acct := &tokend.Account{Name: "turns", Plan: perm.PlanEnterprise, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateAccount(ctx, acct))
	u := &tokend.User{Email: "member@example.com", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateUser(ctx, u))
	must(t, st.CreateMembership(ctx, &tokend.Membership{AccountID: acct.ID, UserID: u.ID,
		License: perm.LicenseDeveloper, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}))
	g := &tokend.Group{AccountID: acct.ID, Name: "g", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateGroup(ctx, g))

	joining, err := st.pool.Begin(ctx)
	must(t, err)
	defer joining.Rollback(context.WithoutCancel(ctx))
	_, err = joining.Exec(ctx, `INSERT INTO group_members (group_id, user_id, account_id) VALUES ($1, $2, $3)`, g.ID, u.ID, acct.ID)
	must(t, err)

	done := make(chan error, 1)
	go func() {
		done <- st.SetGroupPermissions(ctx, acct.ID, g.ID, []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}})
	}()
	// Wait, for 10 s at most, until the replacement waits for its turn; one that does not
	// wait ends first.
	waiting, ended := false, false
	for deadline := time.Now().Add(10 * time.Second); !waiting && !ended && time.Now().Before(deadline); {
		select {
		case err := <-done:
			must(t, err)
			ended = true
			continue
		case <-time.After(10 * time.Millisecond):
		}
		must(t, st.pool.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND NOT l.granted
				AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('tokend verify_grants ' || current_schema(), 0))`).
			Scan(&waiting))
	}
	if !waiting {
		t.Error("the replacement of the group's grants did not wait for the uncommitted member")
	}
	must(t, joining.Commit(ctx))
	if !ended {
		must(t, <-done)
	}
	checkVerifyGrants(t, st)
}
