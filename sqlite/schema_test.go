package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"tokend"
	"tokend/sqlite"
)

// TestSchemaNewer checks that a database migrated by a newer tokend is refused, not "up to date".
func TestSchemaNewer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokend.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	known := lastKnown(t, path)

	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, known+1); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = sqlite.Open(ctx, path)
	var newer *tokend.SchemaNewerError
	if !errors.As(err, &newer) || newer.Database != known+1 || newer.Known != known {
		t.Fatalf("Open on a newer schema: got %v, want SchemaNewerError{%d, %d}", err, known+1, known)
	}
	ms, err := sqlite.Status(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; last.Version != known+1 || last.Name != "" {
		t.Errorf("Status: got last %+v, want version %d without a name", last, known+1)
	}
	for _, m := range ms[:len(ms)-1] {
		if m.AppliedAt.IsZero() || m.Name == "" {
			t.Errorf("Status: got %+v, want every known migration applied and named", m)
		}
	}
}

func TestStatusMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokend.db")
	ms, err := sqlite.Status(context.Background(), path)
	if err != nil || len(ms) == 0 {
		t.Fatalf("Status of a missing file: got %d migrations, %v; want all pending", len(ms), err)
	}
	for _, m := range ms {
		if !m.AppliedAt.IsZero() {
			t.Errorf("got %+v applied, want pending", m)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Status created the file: got %v, want it absent", err)
	}
}

func lastKnown(t *testing.T, path string) int64 {
	t.Helper()
	ms, err := sqlite.Status(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].Version
}
