package tokend_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
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

// nodeStores open one database for two nodes or two handles: an SQLite file both use, or two
// PostgreSQL connections to one schema.
var nodeStores = map[string]func(t *testing.T) (a, b tokend.Store){
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

// TestNeverIssuedTokens runs two nodes on one store: a well-formed token never issued is
// refused by node B without a lookup in the store, and a token issued on node A is accepted
// by node B at once, before B's timer would have read the feed.
func TestNeverIssuedTokens(t *testing.T) {
	for name, open := range nodeStores {
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
			if parsed, err := secret.Parse(raw); err != nil || !parsed.Tagged {
				t.Fatalf("token issued on A: got (%+v, %v), want a tagged token", parsed, err)
			}
			waits := b.Stats().FilterWaits
			p, err := b.Authenticate(t.Context(), raw, "127.0.0.1")
			if err != nil {
				t.Fatalf("token issued on A, used on B at once: got %v, want accepted", err)
			}
			// B had not heard of it: its tag, this cluster's, made B wait for the feed.
			if got := b.Stats().FilterWaits - waits; got != 1 {
				t.Errorf("waits for the feed on B for a token of A's: got %d, want 1", got)
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

// filterReady asks svc about raw, a token it must refuse, until its filter answers (the node
// builds it after its first read of the feed).
func filterReady(t testing.TB, svc *tokend.Service, raw string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	// First the node's first read of the feed: until then a verification reads through with
	// the poll interval as its bound, which a loaded machine may exceed (503).
	for i := 0; !svc.Stats().CachesTrusted; i++ {
		if i >= 1000 || time.Now().After(deadline) {
			t.Fatal("the node did not read the feed within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; svc.Stats().RefusedNeverIssued == 0; i++ {
		if i >= 1000 || time.Now().After(deadline) {
			t.Fatal("the node never refused a token from its filter within 10s")
		}
		if _, err := svc.Authenticate(t.Context(), raw, "127.0.0.1"); err != tokend.ErrInvalidToken {
			t.Fatalf("token never issued: got %v, want ErrInvalidToken", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// forgedToken is a well-formed tagged token (right checksum) whose tag is not this cluster's:
// what someone without the key sends.
func forgedToken(t testing.TB) string {
	t.Helper()
	var b [32]byte
	rand.Read(b[:])
	key, err := secret.NewTagKey(b[:])
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := secret.Generate(rand.Reader, secret.PAT, key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestForgedTaggedTokens: a tagged token whose tag this cluster's key did not make is refused
// from the filter without a lookup in the store and without waiting for a read of the feed,
// while a node's own tokens and another node's still work.
func TestForgedTaggedTokens(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			stA, stB := open(t)
			counted := &countingStore{Store: stB}
			opts := tokend.Options{FeedPollInterval: time.Minute, FeedStaleAfter: 2 * time.Minute}
			a := startNode(t, stA, opts)
			b := startNode(t, counted, opts)
			filterReady(t, b, forgedToken(t))

			st := b.Stats()
			lookups := counted.byHash.Load()
			for range 20 {
				if _, err := b.Authenticate(t.Context(), forgedToken(t), "127.0.0.1"); err != tokend.ErrInvalidToken {
					t.Fatalf("forged tagged token: got %v, want ErrInvalidToken", err)
				}
			}
			after := b.Stats()
			if got := counted.byHash.Load() - lookups; got != 0 {
				t.Errorf("lookups by hash for 20 forged tokens: got %d, want 0", got)
			}
			if got := after.FilterWaits - st.FilterWaits; got != 0 {
				t.Errorf("waits for the feed for 20 forged tokens: got %d, want 0", got)
			}
			if got := after.RefusedNeverIssued - st.RefusedNeverIssued; got != 20 {
				t.Errorf("refused from the filter: got %d, want 20", got)
			}

			raw := ownerToken(t, a)
			for _, n := range []*tokend.Service{b, a} {
				if _, err := n.Authenticate(t.Context(), raw, "127.0.0.1"); err != nil {
					t.Errorf("token issued on A: got %v, want accepted", err)
				}
			}
		})
	}
}

// mintUntagged stores an untagged PAT of the account's owner as a node of the version before
// tags issues one (the token and its feed entry in one transaction), and returns its string.
func mintUntagged(t *testing.T, st tokend.Store, res *tokend.InitResult) string {
	t.Helper()
	raw, uid, err := secret.Generate(rand.Reader, secret.PAT, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := secret.Hash(raw)
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := &tokend.Token{Kind: tokend.KindPAT, AccountID: res.Account.ID, UserID: res.User.ID,
		CreatedBy: res.User.ID, UID: uid, Name: "untagged", Hash: h[:], State: tokend.StateActive,
		CreatedAt: now, UpdatedAt: now}
	err = st.Tx(t.Context(), func(tx tokend.Store) error {
		if err := tx.CreateToken(t.Context(), tok); err != nil {
			return err
		}
		return tx.AppendChanges(t.Context(), now, []tokend.Invalidation{{TokenID: tok.ID}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestUntaggedTokens: a miss of an untagged token waits for the feed until untagged minting
// is sealed, and is refused at once after. SQLite is sealed by its migration; PostgreSQL,
// where old nodes keep minting untagged tokens during a rolling upgrade, once the operator
// seals it. Untagged and old-format tokens that exist keep working throughout.
func TestUntaggedTokens(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			stA, stB := open(t)
			counted := &countingStore{Store: stB}
			// A short poll: B learns of the seal on its next poll.
			opts := tokend.Options{FeedPollInterval: 50 * time.Millisecond, FeedStaleAfter: time.Minute}
			// Before the upgrade: an account, an untagged PAT and an imported old-format token.
			setup := tokend.NewService(stA, tokend.Options{Logger: quietLog, PasswordParams: cheap})
			res, err := setup.Init(t.Context(), tokend.InitParams{AccountName: "Tags", Plan: perm.PlanEnterprise,
				Email: "owner@example.com", Password: "correct horse battery"})
			if err != nil {
				t.Fatal(err)
			}
			before := mintUntagged(t, stA, res)
			slow, err := secret.SlowHash(rand.Reader, "dbtc_OldTok1_"+strings.Repeat("s", 20), 1000)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := setup.ImportServiceTokens(t.Context(), []tokend.ImportedToken{{AccountID: res.Account.ID,
				UID: "OldTok1", SlowHash: slow, Name: "imported",
				Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}}}); err != nil {
				t.Fatal(err)
			}
			a := startNode(t, stA, opts)
			b := startNode(t, counted, opts)
			filterReady(t, b, forgedToken(t))

			never, _, err := secret.Generate(rand.Reader, secret.PAT, nil)
			if err != nil {
				t.Fatal(err)
			}
			if name == "postgres" {
				if b.Stats().UntaggedSealed {
					t.Fatal("UntaggedSealed before the seal: got true, want false")
				}
				waits := b.Stats().FilterWaits
				if _, err := b.Authenticate(t.Context(), never, "127.0.0.1"); err != tokend.ErrInvalidToken {
					t.Fatalf("untagged token never issued: got %v, want ErrInvalidToken", err)
				}
				if got := b.Stats().FilterWaits - waits; got != 1 {
					t.Errorf("waits for the feed for an untagged miss before the seal: got %d, want 1", got)
				}
				// An old node mints an untagged token; it works on B at once.
				during := mintUntagged(t, stA, res)
				if _, err := b.Authenticate(t.Context(), during, "127.0.0.1"); err != nil {
					t.Errorf("untagged token minted during the upgrade, used on B at once: got %v, want accepted", err)
				}
				if err := a.SealUntaggedTokens(t.Context()); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for i := 0; !b.Stats().UntaggedSealed; i++ {
					if i >= 1000 || time.Now().After(deadline) {
						t.Fatal("node B did not learn of the seal within 10s")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			if !b.Stats().UntaggedSealed {
				t.Fatal("UntaggedSealed: got false, want true")
			}
			st := b.Stats()
			lookups := counted.byHash.Load()
			for range 5 {
				if _, err := b.Authenticate(t.Context(), never, "127.0.0.1"); err != tokend.ErrInvalidToken {
					t.Fatalf("untagged token never issued, after the seal: got %v, want ErrInvalidToken", err)
				}
			}
			if got := b.Stats().FilterWaits - st.FilterWaits; got != 0 {
				t.Errorf("waits for the feed for untagged misses after the seal: got %d, want 0", got)
			}
			if got := counted.byHash.Load() - lookups; got != 0 {
				t.Errorf("lookups by hash for untagged misses after the seal: got %d, want 0", got)
			}
			for _, tt := range []struct{ name, raw string }{
				{"untagged, minted before the upgrade", before},
				{"old format, imported", "dbtc_OldTok1_" + strings.Repeat("s", 20)},
				{"tagged", res.Token},
			} {
				for i, n := range []*tokend.Service{b, a} {
					if _, err := n.Authenticate(t.Context(), tt.raw, "127.0.0.1"); err != nil {
						t.Errorf("%s on node %d: got %v, want accepted", tt.name, i, err)
					}
				}
			}
		})
	}
}

// tagsStore makes its node see another tag key than the store's (wrong), or none (lost).
type tagsStore struct {
	tokend.Store
	lost bool
}

func (s tagsStore) TokenTags(ctx context.Context) (tokend.TokenTags, error) {
	if s.lost {
		return tokend.TokenTags{}, &tokend.Error{Code: tokend.ENotFound, Message: "Not found."}
	}
	t, err := s.Store.TokenTags(ctx)
	if err == nil {
		t.Key = make([]byte, 32)
		rand.Read(t.Key)
	}
	return t, err
}

func (s tagsStore) Tx(ctx context.Context, fn func(tokend.Store) error) error {
	return s.Store.Tx(ctx, func(tx tokend.Store) error { return fn(tagsStore{Store: tx, lost: s.lost}) })
}

// TestWrongOrLostTagKey: a node whose tag key is not the store's, or that has none, refuses no
// token that exists: the key only decides whether a miss waits for the feed. Without a key
// every miss waits, as before tags. With a wrong one, a token another node minted an instant
// ago looks forged until this node's next read of the feed adds it to the filter; after that
// it works.
func TestWrongOrLostTagKey(t *testing.T) {
	for name, open := range nodeStores {
		for _, lost := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lost=%v", name, lost), func(t *testing.T) {
				stA, stB := open(t)
				opts := tokend.Options{FeedPollInterval: 50 * time.Millisecond, FeedStaleAfter: time.Minute}
				a := startNode(t, stA, opts)
				before := ownerToken(t, a) // tagged with the store's key
				b := startNode(t, tagsStore{Store: stB, lost: lost}, opts)
				filterReady(t, b, forgedToken(t))

				p, err := b.Authenticate(t.Context(), before, "127.0.0.1")
				if err != nil {
					t.Fatalf("token issued before B started: got %v, want accepted", err)
				}
				// Tokens B mints: tagged with its key, or untagged without one.
				_, raw, err := b.CreatePAT(t.Context(), p, p.AccountID, p.UserID, tokend.PATInput{Name: "from B"})
				if err != nil {
					t.Fatal(err)
				}
				if parsed, _ := secret.Parse(raw); parsed.Tagged == lost {
					t.Errorf("token minted on B: got tagged %v, want %v", parsed.Tagged, !lost)
				}
				if _, err := b.Authenticate(t.Context(), raw, "127.0.0.1"); err != nil {
					t.Errorf("PAT minted on B, on B: got %v, want accepted", err)
				}
				// On A it is not this cluster's (wrong key), or untagged (a lost key; sealed
				// on SQLite): accepted at once, or once A has read the feed.
				acceptedSoon(t, a, raw, "PAT minted on B, on A")

				_, fromA, err := a.CreatePAT(t.Context(), p, p.AccountID, p.UserID, tokend.PATInput{Name: "from A"})
				if err != nil {
					t.Fatal(err)
				}
				if lost {
					if _, err := b.Authenticate(t.Context(), fromA, "127.0.0.1"); err != nil {
						t.Errorf("PAT minted on A, on B at once without a key: got %v, want accepted", err)
					}
					return
				}
				acceptedSoon(t, b, fromA, "PAT minted on A, on B with a wrong key")
			})
		}
	}
}

// acceptedSoon authenticates raw on svc until it is accepted: at once, or after svc's next
// read of the feed (within 10s).
func acceptedSoon(t *testing.T, svc *tokend.Service, raw, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		_, err := svc.Authenticate(t.Context(), raw, "127.0.0.1")
		if err == nil {
			return
		}
		if i >= 1000 || time.Now().After(deadline) {
			t.Fatalf("%s: got %v for 10s, want accepted after the node's next read of the feed", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
