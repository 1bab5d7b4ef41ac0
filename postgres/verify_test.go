package postgres

import (
	"context"
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

// grantsFixture stores an account with a member and a group, for the tests of the
// verify_grants columns.
func grantsFixture(t *testing.T, st *Store) (tokend.AccountID, tokend.UserID, tokend.GroupID) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	acct := &tokend.Account{Name: "grants", Plan: perm.PlanEnterprise, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateAccount(ctx, acct))
	u := &tokend.User{Email: "member@example.com", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateUser(ctx, u))
	must(t, st.CreateMembership(ctx, &tokend.Membership{AccountID: acct.ID, UserID: u.ID,
		License: perm.LicenseDeveloper, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}))
	g := &tokend.Group{AccountID: acct.ID, Name: "g", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateGroup(ctx, g))
	return acct.ID, u.ID, g.ID
}

// waitsForTurn reports whether the call behind done comes to wait for the grants' turn
// (verify_grants_take_turn) within 10 s. ended says it returned first; its error fails t.
func waitsForTurn(t *testing.T, st *Store, done <-chan error) (waiting, ended bool) {
	t.Helper()
	for i, deadline := 0, time.Now().Add(10*time.Second); i < 1000 && time.Now().Before(deadline); i++ {
		select {
		case err := <-done:
			must(t, err)
			return false, true
		case <-time.After(10 * time.Millisecond):
		}
		must(t, st.pool.QueryRow(t.Context(), `
			SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND NOT l.granted
				AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('tokend verify_grants ' || current_schema(), 0))`).
			Scan(&waiting))
		if waiting {
			return true, false
		}
	}
	return false, false
}

// replaceGrants replaces the group's grants in the background and sends the outcome on the
// channel it returns.
func replaceGrants(t *testing.T, st *Store, acct tokend.AccountID, group tokend.GroupID) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- st.SetGroupPermissions(t.Context(), acct, group, []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}})
	}()
	return done
}

// TestVerifyGrantsTakeTurns holds a new member of a group uncommitted while the group's grants
// are replaced: the replacement must wait for it and then count the member, or the member's
// column would miss the new grants (each transaction recomputing without the other's rows).
func TestVerifyGrantsTakeTurns(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	acct, user, group := grantsFixture(t, st)

	joining, err := st.pool.Begin(ctx)
	must(t, err)
	defer joining.Rollback(context.WithoutCancel(ctx))
	_, err = joining.Exec(ctx, `INSERT INTO group_members (group_id, user_id, account_id) VALUES ($1, $2, $3)`, group, user, acct)
	must(t, err)

	done := replaceGrants(t, st, acct, group)
	waiting, ended := waitsForTurn(t, st, done)
	if !waiting {
		t.Error("the replacement of the group's grants did not wait for the uncommitted member")
	}
	must(t, joining.Commit(ctx))
	if !ended {
		must(t, <-done)
	}
	checkVerifyGrants(t, st)
}

// TestVerifyGrantsTurnBeforeRowLock: a replacement of a group's grants takes its turn before it
// locks the group's row. Taken after, it would hold the row while it waits for a transaction
// that has the turn, and that transaction's update of the group would wait for the row: a
// deadlock, which PostgreSQL breaks by failing one of them.
func TestVerifyGrantsTurnBeforeRowLock(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	acct, _, group := grantsFixture(t, st)

	holder, err := st.pool.Begin(ctx)
	must(t, err)
	defer holder.Rollback(context.WithoutCancel(ctx))
	_, err = holder.Exec(ctx, `SELECT verify_grants_take_turn()`)
	must(t, err)

	done := replaceGrants(t, st, acct, group)
	if waiting, _ := waitsForTurn(t, st, done); !waiting {
		t.Fatal("the replacement of the group's grants did not wait for the turn")
	}
	// The holder renames the group: it needs the group's row, which the waiting replacement
	// must not hold.
	if _, err := holder.Exec(ctx, `UPDATE account_groups SET name = 'renamed' WHERE id = $1`, group); err != nil {
		t.Fatalf("the update of the group while the replacement waits: %v", err)
	}
	must(t, holder.Commit(ctx))
	if err := <-done; err != nil {
		t.Errorf("the replacement after the update: %v", err)
	}
	checkVerifyGrants(t, st)
}
