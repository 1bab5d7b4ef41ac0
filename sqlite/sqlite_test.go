package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tokend"
	"tokend/sqlite"
	"tokend/storetest"
)

func open(tb testing.TB) tokend.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "tokend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, open)
}

// TestReopen checks that migrations are idempotent and data survives a reopen.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokend.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	a := &tokend.Account{Name: "kept", Plan: "enterprise", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Account(ctx, a.ID)
	if err != nil || got.Name != "kept" {
		t.Fatalf("got %v, %v; want the account back after reopening", got, err)
	}
}
