package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func testTx(t *testing.T, open func(testing.TB) tokend.Store) {
	// write creates an account and a user through st and checks that st sees them. It reports
	// failures with Errorf, not Fatal: Goexit inside fn would skip the Tx's rollback.
	write := func(t *testing.T, st tokend.Store) (*tokend.Account, *tokend.User, error) {
		t.Helper()
		ctx := t.Context()
		a := &tokend.Account{Name: "In a tx", Plan: perm.PlanTeam, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Errorf("CreateAccount in tx: %v", err)
			return nil, nil, err
		}
		u := &tokend.User{Email: "tx-" + unique() + "@example.com", State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Errorf("CreateUser in tx: %v", err)
			return a, nil, err
		}
		if _, err := st.Account(ctx, a.ID); err != nil {
			t.Errorf("Account in the tx that created it: %v", err)
		}
		if _, err := st.UserByEmail(ctx, u.Email); err != nil {
			t.Errorf("UserByEmail in the tx that created it: %v", err)
		}
		return a, u, nil
	}
	// gone checks that nothing written in a rolled-back tx remains.
	gone := func(t *testing.T, st tokend.Store, a *tokend.Account, u *tokend.User) {
		t.Helper()
		ctx := t.Context()
		if a != nil {
			_, err := st.Account(ctx, a.ID)
			wantCode(t, err, tokend.ENotFound, "Account after rollback")
		}
		if u != nil {
			_, err := st.UserByEmail(ctx, u.Email)
			wantCode(t, err, tokend.ENotFound, "UserByEmail after rollback")
		}
		n, err := st.CountAccounts(ctx)
		must(t, err, "CountAccounts")
		if n != 0 {
			t.Errorf("CountAccounts after rollback: got %d, want 0", n)
		}
	}
	// usable checks that the store still takes writes after a tx ended, so that a rolled-back
	// or panicking tx does not leave a connection or a lock behind.
	usable := func(t *testing.T, st tokend.Store) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		a := &tokend.Account{Name: "After", Plan: perm.PlanTeam, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		must(t, st.CreateAccount(ctx, a), "CreateAccount after the tx")
		must(t, st.Tx(ctx, func(tx tokend.Store) error { return tx.UpdateAccount(ctx, a) }), "Tx after the tx")
	}

	t.Run("Commit", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		var a *tokend.Account
		var u *tokend.User
		must(t, st.Tx(ctx, func(tx tokend.Store) error {
			var err error
			a, u, err = write(t, tx)
			return err
		}), "Tx")
		got, err := st.Account(ctx, a.ID)
		must(t, err, "Account after commit")
		accountDiff(got, a).report(t, "Account after commit")
		gotU, err := st.UserByEmail(ctx, u.Email)
		must(t, err, "UserByEmail after commit")
		userDiff(gotU, u).report(t, "User after commit")
	})

	t.Run("ErrorRollsBack", func(t *testing.T) {
		st := open(t)
		boom := errors.New("boom")
		var a *tokend.Account
		var u *tokend.User
		err := st.Tx(t.Context(), func(tx tokend.Store) error {
			a, u, _ = write(t, tx)
			return boom
		})
		// Contract: Tx returns fn's error so that callers can branch on it.
		if !errors.Is(err, boom) {
			t.Errorf("Tx: got error %v, want %v", err, boom)
		}
		gone(t, st, a, u)
		usable(t, st)
	})

	t.Run("StoreErrorRollsBack", func(t *testing.T) {
		// A failed statement inside the tx (PostgreSQL then aborts the tx) rolls back the rest.
		st := open(t)
		var a *tokend.Account
		var u *tokend.User
		err := st.Tx(t.Context(), func(tx tokend.Store) error {
			var err error
			if a, u, err = write(t, tx); err != nil {
				return err
			}
			return tx.CreateUser(t.Context(), &tokend.User{Email: u.Email, State: tokend.StateActive,
				CreatedAt: base, UpdatedAt: base})
		})
		wantCode(t, err, tokend.EConflict, "Tx whose fn returns a conflict")
		gone(t, st, a, u)
		usable(t, st)
	})

	t.Run("PanicRollsBack", func(t *testing.T) {
		st := open(t)
		var a *tokend.Account
		var u *tokend.User
		recovered := func() (p any) {
			defer func() { p = recover() }()
			_ = st.Tx(t.Context(), func(tx tokend.Store) error {
				a, u, _ = write(t, tx)
				panic("boom")
			})
			return nil
		}()
		if recovered != "boom" {
			t.Errorf("Tx with a panicking fn: recovered %v, want the panic re-raised (\"boom\")", recovered)
		}
		gone(t, st, a, u)
		usable(t, st)
	})
}
