package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/sqlite"
)

// TestBackupRestore takes a backup while the store is open and in use, restores it to another
// place and reads it back.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	account := func(st tokend.Store, name string) *tokend.Account {
		now := time.Now().UTC()
		a := &tokend.Account{Name: name, Plan: "enterprise", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	before := account(st, "before the backup")
	backup := filepath.Join(dir, "backup.db")
	if err := st.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	after := account(st, "after the backup")
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: got mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if err := st.Backup(ctx, backup); err == nil {
		t.Errorf("backup over an existing file: got nil, want an error")
	}

	restored := filepath.Join(t.TempDir(), "tokend.db")
	if err := sqlite.Restore(ctx, backup, restored, false); err != nil {
		t.Fatal(err)
	}
	rs, err := sqlite.Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rs.Account(ctx, before.ID); err != nil || got.Name != before.Name {
		t.Errorf("restored account %d: got %v, %v; want %q", before.ID, got, err, before.Name)
	}
	if _, err := rs.Account(ctx, after.ID); tokend.ErrorCode(err) != tokend.ENotFound {
		t.Errorf("account created after the backup: got %v, want not found", err)
	}
	// While a store has the file open, its -wal exists: restoring over it is refused.
	if err := sqlite.Restore(ctx, backup, restored, false); err == nil || !strings.Contains(err.Error(), "stop the server") {
		t.Errorf("restore over an open database: got %v, want a refusal", err)
	}
	rs.Close()

	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600)
	for name, src := range map[string]string{"not sqlite": garbage, "missing": filepath.Join(dir, "none.db")} {
		t.Run(name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "tokend.db")
			if err := sqlite.Restore(ctx, src, target, false); err == nil {
				t.Errorf("got nil, want an error")
			}
			if _, err := os.Stat(target); err == nil {
				t.Errorf("a refused restore left %s behind", target)
			}
		})
	}
}
