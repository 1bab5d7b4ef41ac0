package postgres

import (
	"testing"

	"tokend"
	"tokend/postgres/pgtest"
	"tokend/storetest"
)

// TestStoreExecModes runs the conformance suite in the query mode docs/operations.md gives for
// PgBouncer in transaction mode, where a statement prepared on one server connection is not
// there in the next transaction: unnamed statements (exec). The default mode prepares and
// caches statements per connection (TestStore).
func TestStoreExecModes(t *testing.T) {
	t.Parallel()
	pgtest.Conn(t).Close(t.Context())
	for _, mode := range []string{"exec"} {
		t.Run(mode, func(t *testing.T) {
			storetest.Run(t, func(tb testing.TB) tokend.Store {
				u := pgtest.SchemaURL(tb)
				st := openStore(tb, u+"&default_query_exec_mode="+mode)
				pgtest.OffsetIDs(tb, u)
				tb.Cleanup(func() { checkVerifyGrants(tb, st) })
				return st
			})
		})
	}
}
