package tokend_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/postgres/pgtest"
	"tokend/secret"
	"tokend/sqlite"
)

// countingStore counts the lookups by hash and the account reads that reach the real store it
// wraps.
type countingStore struct {
	tokend.Store
	byHash   atomic.Int64
	accounts atomic.Int64
}

func (c *countingStore) Account(ctx context.Context, id tokend.AccountID) (*tokend.Account, error) {
	c.accounts.Add(1)
	return c.Store.Account(ctx, id)
}

func (c *countingStore) TokenByHash(ctx context.Context, hash []byte) (*tokend.Token, error) {
	c.byHash.Add(1)
	return c.Store.TokenByHash(ctx, hash)
}

func (c *countingStore) TokenForVerify(ctx context.Context, hash []byte) (*tokend.Token, *tokend.MemberAccess, error) {
	c.byHash.Add(1)
	return c.Store.TokenForVerify(ctx, hash)
}

// TestNeverIssuedTokens runs two nodes on one store: a well-formed token never issued is
// refused by node B without a lookup in the store, and a token issued on node A is accepted
// by node B at once, before B's timer would have read the feed.
func TestNeverIssuedTokens(t *testing.T) {
	stores := map[string]func(t *testing.T) (a, b tokend.Store){
		"sqlite": func(t *testing.T) (tokend.Store, tokend.Store) {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st, st
		},
		"postgres": func(t *testing.T) (tokend.Store, tokend.Store) {
			u := pgtest.SchemaURL(t)
			return openPostgres(t, u), openPostgres(t, u)
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			stA, stB := open(t)
			counted := &countingStore{Store: stB}
			// A poll interval longer than the test: only a request's own wait reads B's feed.
			opts := tokend.Options{FeedPollInterval: time.Minute, FeedStaleAfter: 2 * time.Minute}
			a := startNode(t, stA, opts)
			b := startNode(t, counted, opts)

			never, _, err := secret.Generate(rand.Reader, secret.PAT, nil)
			if err != nil {
				t.Fatal(err)
			}
			// B builds its filter after its first read of the feed; wait until it answers.
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; b.Stats().RefusedNeverIssued == 0; i++ {
				if i >= 1000 || time.Now().After(deadline) {
					t.Fatal("node B never refused a token from its filter within 10s")
				}
				if _, err := b.Authenticate(t.Context(), never, "127.0.0.1"); err != tokend.ErrInvalidToken {
					t.Fatalf("never-issued token: got %v, want ErrInvalidToken", err)
				}
				time.Sleep(10 * time.Millisecond)
			}

			before := counted.byHash.Load()
			for range 20 {
				if _, err := b.Authenticate(t.Context(), never, "127.0.0.1"); err != tokend.ErrInvalidToken {
					t.Fatalf("never-issued token: got %v, want ErrInvalidToken", err)
				}
			}
			if got := counted.byHash.Load() - before; got != 0 {
				t.Errorf("lookups by hash for 20 never-issued tokens: got %d, want 0", got)
			}

			raw := ownerToken(t, a) // issued on A now
			p, err := b.Authenticate(t.Context(), raw, "127.0.0.1")
			if err != nil {
				t.Fatalf("token issued on A, used on B at once: got %v, want accepted", err)
			}
			if p.Kind != tokend.KindPAT {
				t.Errorf("kind: got %q, want %q", p.Kind, tokend.KindPAT)
			}
			if _, err := a.Authenticate(t.Context(), raw, "127.0.0.1"); err != nil {
				t.Errorf("token on its own node: got %v, want accepted", err)
			}
		})
	}
}
