package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tokend"
	"tokend/sqlite"
	"tokend/sqlite/sqlitetest"
	"tokend/storetest"
)

func open(tb testing.TB) tokend.Store {
	tb.Helper()
	return sqlitetest.Open(tb)
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

// TestIDsDifferAcrossKinds checks the test stores' id offsets: the first account and the first
// user do not share an id, so a test that swaps them fails.
func TestIDsDifferAcrossKinds(t *testing.T) {
	t.Parallel()
	st := sqlitetest.Open(t)
	ctx := t.Context()
	now := time.Now()
	a := &tokend.Account{Name: "A", Plan: "enterprise", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	u := &tokend.User{Email: "a@example.com", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if int64(a.ID) != sqlitetest.Offsets["accounts"]+1 || int64(u.ID) != sqlitetest.Offsets["users"]+1 {
		t.Errorf("first ids: got account %d and user %d, want %d and %d", a.ID, u.ID,
			sqlitetest.Offsets["accounts"]+1, sqlitetest.Offsets["users"]+1)
	}
}

func BenchmarkListTokens(b *testing.B) { storetest.BenchmarkListTokens(b, open, 20000) }

// TestUntaggedSealedByMigration: an SQLite database is sealed by the migration that makes its
// tag key, since no binary that mints untagged tokens opens a database migrated past it.
func TestUntaggedSealedByMigration(t *testing.T) {
	t.Parallel()
	tags, err := sqlitetest.Open(t).TokenTags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !tags.UntaggedSealed {
		t.Errorf("UntaggedSealed of a new database: got false, want true")
	}
}
