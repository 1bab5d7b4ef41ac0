package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/postgres/pgtest"
	"tokend/storetest"
)

// openStore opens a migrated Store on url, closed when tb ends.
func openStore(tb testing.TB, url string) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := Open(ctx, url)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// openTestStore returns a Store on a fresh schema of its own.
func openTestStore(tb testing.TB) *Store {
	tb.Helper()
	u := pgtest.SchemaURL(tb)
	st := openStore(tb, u)
	pgtest.OffsetIDs(tb, u)
	return st
}

func TestStore(t *testing.T) {
	t.Parallel()
	pgtest.Conn(t).Close(context.Background())
	storetest.Run(t, func(tb testing.TB) tokend.Store {
		st := openTestStore(tb)
		// After every case: the columns verification reads agree with the tables.
		tb.Cleanup(func() { checkVerifyGrants(tb, st) })
		return st
	})
}

func TestSchemaIsolation(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	var schema string
	if err := st.pool.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if len(schema) < len("tokend_test_") || schema[:len("tokend_test_")] != "tokend_test_" {
		t.Errorf("current_schema: got %q, want a tokend_test_ schema", schema)
	}
}

// TestOpenConcurrently checks that a second node opening a migrated database finds nothing to do,
// and that nodes starting at once wait for each other's migrations instead of failing.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	u := pgtest.SchemaURL(t)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			st, err := Open(t.Context(), u)
			if err == nil {
				st.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
	}
	openStore(t, u)
}

// TestFeedWakeUp checks that a change appended by one node wakes another, at commit and not
// on rollback, with the entry's number.
func TestFeedWakeUp(t *testing.T) {
	t.Parallel()
	u := pgtest.SchemaURL(t)
	writer, listener := openStore(t, u), openStore(t, u)

	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan int64, 64)
	done := make(chan error, 1)
	go func() { done <- listener.Subscribe(ctx, func(seq int64) { got <- seq }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Subscribe after cancel: got %v, want nil", err)
		}
	}()

	timeout := time.After(5 * time.Second)
	// wait returns once a wake-up carries want; other tests' schemas share the channel, so
	// unrelated numbers may come first.
	wait := func(what string, want int64, refuse int64) {
		t.Helper()
		for {
			select {
			case seq := <-got:
				if refuse != 0 && seq == refuse {
					t.Errorf("%s: woken with %d, the number of a rolled-back change", what, seq)
				}
				if seq == want {
					return
				}
			case err := <-done:
				t.Fatalf("%s: Subscribe returned %v", what, err)
			case <-timeout:
				t.Fatalf("%s: no wake-up with %d within 5s", what, want)
			}
		}
	}
	wait("listening starts", 0, 0)

	errRollback := fmt.Errorf("roll back")
	err := writer.Tx(t.Context(), func(st tokend.Store) error {
		if err := st.AppendChanges(t.Context(), time.Now(), []tokend.Invalidation{{TokenID: 1}}); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatalf("Tx: got %v, want %v", err, errRollback)
	}
	must(t, writer.AppendChanges(t.Context(), time.Now(), []tokend.Invalidation{{TokenID: 2}, {AccountID: 3}}))
	// The rolled-back change gave its number back: the committed one's last entry is 2.
	wait("committed append", 2, 0)
}

// TestFeedOrderedCommits checks how the feed keeps numbers in commit order: a second writer
// waits for the first to commit (or roll back) before it gets a number, so no reader can see
// entry n+1 while n is still uncommitted, and a rolled-back number is reused, not skipped.
func TestFeedOrderedCommits(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	for _, outcome := range []string{"commit", "rollback"} {
		t.Run(outcome, func(t *testing.T) {
			before, err := st.FeedHead(ctx)
			must(t, err)
			first, err := st.pool.Begin(ctx)
			must(t, err)
			defer first.Rollback(context.WithoutCancel(ctx))
			one := &Store{pool: st.pool, tx: first}
			must(t, one.AppendChanges(ctx, time.Now(), []tokend.Invalidation{{TokenID: 1}}))

			second := make(chan error, 1)
			go func() {
				second <- st.AppendChanges(ctx, time.Now(), []tokend.Invalidation{{TokenID: 2}})
			}()
			// The second writer must still be waiting: poll for a while, bounded, and check
			// nothing past before is visible.
			for i := range 20 {
				select {
				case err := <-second:
					t.Fatalf("second writer committed (err %v) while the first was open, check %d", err, i)
				case <-time.After(10 * time.Millisecond):
				}
				cs, err := st.Changes(ctx, before, 10)
				must(t, err)
				if len(cs) != 0 {
					t.Fatalf("check %d: a reader sees %v while the first writer is open, want nothing", i, cs)
				}
			}
			if outcome == "commit" {
				must(t, first.Commit(ctx))
			} else {
				must(t, first.Rollback(ctx))
			}
			select {
			case err := <-second:
				must(t, err)
			case <-time.After(5 * time.Second):
				t.Fatal("second writer still waiting 5s after the first ended")
			}
			cs, err := st.Changes(ctx, before, 10)
			must(t, err)
			want := []int64{2}
			if outcome == "commit" {
				want = []int64{1, 2}
			}
			if len(cs) != len(want) {
				t.Fatalf("Changes after both: got %v, want tokens %v", cs, want)
			}
			for i, c := range cs {
				if c.Seq != before+1+int64(i) || c.TokenID != tokend.TokenID(want[i]) {
					t.Errorf("entry %d: got seq %d token %d, want seq %d token %d", i, c.Seq, c.TokenID, before+1+int64(i), want[i])
				}
			}
		})
	}
}

// TestSubscribeBroken checks that Subscribe reports a broken connection instead of returning nil.
func TestSubscribeBroken(t *testing.T) {
	t.Parallel()
	u := pgtest.SchemaURL(t)
	st := openStore(t, u)
	listening := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- st.Subscribe(t.Context(), func(int64) {
			select {
			case listening <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-listening:
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe: no first call within 5s")
	}
	conn := pgtest.Conn(t)
	defer conn.Close(context.Background())
	pu, err := url.Parse(u)
	must(t, err)
	var n int
	err = conn.QueryRow(t.Context(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND query = 'LISTEN tokend_feed'`,
		pu.Query().Get("application_name")).Scan(&n)
	must(t, err)
	if n != 1 {
		t.Fatalf("terminated %d listening connections, want 1", n)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("Subscribe after the connection broke: got nil, want an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe: still running 5s after its connection was terminated")
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	a := &tokend.Account{Name: "A", Plan: perm.PlanTeam, State: tokend.StateActive, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	must(t, st.CreateAccount(ctx, a))
	tests := []struct {
		name string
		err  error
		want tokend.Code
	}{
		{"missing account (foreign key)", st.CreateProject(ctx, &tokend.Project{AccountID: 999999, Name: "p",
			State: tokend.StateActive, CreatedAt: time.Now(), UpdatedAt: time.Now()}), tokend.ENotFound},
		{"missing row", func() error { _, err := st.Account(ctx, 999999); return err }(), tokend.ENotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokend.ErrorCode(tt.err); got != tt.want {
				t.Errorf("code: got %q (%v), want %q", got, tt.err, tt.want)
			}
		})
	}
}

// TestTimes checks that times come back in UTC at microsecond precision, whatever zone they
// were written in.
func TestTimes(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2026, 3, 4, 5, 6, 7, 123456789, zone)
	a := &tokend.Account{Name: "A", Plan: perm.PlanTeam, State: tokend.StateActive, CreatedAt: created, UpdatedAt: created}
	must(t, st.CreateAccount(ctx, a))
	got, err := st.Account(ctx, a.ID)
	must(t, err)
	want := created.UTC().Truncate(time.Microsecond)
	if got.CreatedAt != want {
		t.Errorf("CreatedAt: got %v, want %v", got.CreatedAt, want)
	}
	if !got.LegacyKeysUntil.IsZero() {
		t.Errorf("LegacyKeysUntil: got %v, want the zero time", got.LegacyKeysUntil)
	}
}

// TestBulkPermissions checks that 150 grants are replaced at once, in order.
func TestBulkPermissions(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	now := time.Now()
	a := &tokend.Account{Name: "A", Plan: perm.PlanEnterprise, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateAccount(ctx, a))
	g := &tokend.Group{AccountID: a.ID, Name: "G", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateGroup(ctx, g))
	tok := &tokend.Token{Kind: tokend.KindService, AccountID: a.ID, UID: "svc", Hash: []byte("h"),
		State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateToken(ctx, tok))
	grants := make([]perm.Grant, 150)
	for i := range grants {
		grants[i] = perm.Grant{Set: perm.Member, ProjectID: int64(i + 1), WritableEnvironmentCategories: []string{"development"}}
	}
	must(t, st.SetGroupPermissions(ctx, a.ID, g.ID, grants))
	must(t, st.SetTokenPermissions(ctx, tok.AccountID, tok.ID, grants))
	gotG, err := st.Group(ctx, a.ID, g.ID)
	must(t, err)
	gotT, err := st.Token(ctx, a.ID, tok.ID)
	must(t, err)
	for _, got := range [][]perm.Grant{gotG.Grants(), gotT.Grants()} {
		if len(got) != len(grants) {
			t.Fatalf("grants: got %d, want %d", len(got), len(grants))
		}
		for i := range got {
			if got[i].ProjectID != grants[i].ProjectID {
				t.Fatalf("grant %d: got project %d, want %d", i, got[i].ProjectID, grants[i].ProjectID)
			}
		}
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkTokenByHash(b *testing.B) {
	st := openTestStore(b)
	ctx := context.Background()
	now := time.Now()
	a := &tokend.Account{Name: "A", Plan: perm.PlanEnterprise, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(b, st.CreateAccount(ctx, a))
	u := &tokend.User{Email: "bench@example.com", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(b, st.CreateUser(ctx, u))
	hashes := make([][]byte, 1000)
	must(b, st.Tx(ctx, func(tx tokend.Store) error {
		for i := range hashes {
			h := sha256.Sum256([]byte(rand.Text()))
			hashes[i] = h[:]
			t := &tokend.Token{Kind: tokend.KindPAT, AccountID: a.ID, UserID: u.ID, CreatedBy: u.ID,
				UID: fmt.Sprintf("tok%04d", i), Hash: hashes[i], State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateToken(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}))
	for b.Loop() {
		if _, err := st.TokenByHash(ctx, hashes[mrand.IntN(len(hashes))]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSchemaNewer checks that a database migrated by a newer tokend is refused, not "up to date".
func TestSchemaNewer(t *testing.T) {
	t.Parallel()
	u := pgtest.SchemaURL(t)
	st := openStore(t, u)
	ms, err := Status(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	known := ms[len(ms)-1].Version
	for _, m := range ms {
		if m.AppliedAt.IsZero() || m.Name == "" {
			t.Errorf("Status: got %+v, want every known migration applied and named", m)
		}
	}
	if _, err := st.pool.Exec(t.Context(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, known+1); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), u)
	var newer *tokend.SchemaNewerError
	if !errors.As(err, &newer) || newer.Database != known+1 || newer.Known != known {
		t.Fatalf("Open on a newer schema: got %v, want SchemaNewerError{%d, %d}", err, known+1, known)
	}
	if ms, err = Status(t.Context(), u); err != nil || ms[len(ms)-1].Version != known+1 || ms[len(ms)-1].Name != "" {
		t.Errorf("Status: got last %+v (%v), want version %d without a name", ms[len(ms)-1], err, known+1)
	}
}

// TestIDsDifferAcrossKinds checks the test schemas' id offsets: the first account and the first
// user do not share an id, so a test that swaps them fails.
func TestIDsDifferAcrossKinds(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := t.Context()
	now := time.Now()
	a := &tokend.Account{Name: "A", Plan: perm.PlanTeam, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateAccount(ctx, a))
	u := &tokend.User{Email: "a@example.com", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateUser(ctx, u))
	if int64(a.ID) != pgtest.Offsets["accounts"]+1 || int64(u.ID) != pgtest.Offsets["users"]+1 {
		t.Errorf("first ids: got account %d and user %d, want %d and %d", a.ID, u.ID,
			pgtest.Offsets["accounts"]+1, pgtest.Offsets["users"]+1)
	}
}

func BenchmarkListTokens(b *testing.B) {
	storetest.BenchmarkListTokens(b, func(tb testing.TB) tokend.Store { return openTestStore(tb) }, 20000)
}

// TestUntaggedNotSealedByMigration: during a rolling upgrade old nodes mint untagged tokens
// after the migration, so a PostgreSQL database starts unsealed; the operator seals it.
func TestUntaggedNotSealedByMigration(t *testing.T) {
	t.Parallel()
	tags, err := openTestStore(t).TokenTags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tags.UntaggedSealed {
		t.Errorf("UntaggedSealed of a new database: got true, want false")
	}
}
