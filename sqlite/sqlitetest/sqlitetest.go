// Package sqlitetest opens SQLite stores for tests: a file of its own under the test's
// temporary directory, with each kind's ids starting at a different offset.
package sqlitetest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"tokend/sqlite"
)

// Offsets is where each table's ids start in a test store (the first row gets offset+1), so
// that the first account, user, token, group and project never share an id and a test that
// passes one kind's id where another is expected fails instead of passing by coincidence. The
// same offsets apply to PostgreSQL test schemas (pgtest.OffsetIDs).
var Offsets = map[string]int64{
	"accounts":       1000,
	"users":          2000,
	"tokens":         3000,
	"account_groups": 4000,
	"projects":       5000,
}

// Open opens a migrated store on a new file under tb.TempDir(), with ids offset, closed when
// tb ends.
func Open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "tokend.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	OffsetIDs(tb, path)
	return st
}

// OffsetIDs starts the id sequences of the migrated, still empty database at path at Offsets.
func OffsetIDs(tb testing.TB, path string) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for table, off := range Offsets {
		// An AUTOINCREMENT table takes its next id from sqlite_sequence.
		if _, err := db.Exec(`INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, table, off); err != nil {
			tb.Fatal(fmt.Errorf("offset %s ids: %w", table, err))
		}
	}
}
