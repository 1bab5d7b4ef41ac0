package tokend_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// migrationName is what goose reads a version from: NNNNN_what.sql.
var migrationName = regexp.MustCompile(`^([0-9]+)_[a-z0-9_]+\.sql$`)

// TestMigrationVersions fails when two migrations of a store share a version number (two
// branches that each added "the next" migration), or a file in migrations/ is not one goose reads.
func TestMigrationVersions(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			dir := filepath.Join(store, "migrations")
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 {
				t.Fatalf("got no migrations in %s, want some", dir)
			}
			seen := map[int]string{}
			for _, e := range entries {
				m := migrationName.FindStringSubmatch(e.Name())
				if m == nil {
					t.Errorf("%s: got a file named %q, want NNNNN_name.sql", dir, e.Name())
					continue
				}
				v, _ := strconv.Atoi(m[1])
				if other, ok := seen[v]; ok {
					t.Errorf("%s: got version %d in both %s and %s, want one migration per version (renumber the newer)", dir, v, other, e.Name())
				}
				seen[v] = e.Name()
			}
		})
	}
}
