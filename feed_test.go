package tokend_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/sqlite"
)

// Tests of the change feed as nodes see it: a revocation on node A reaches node B through the
// feed whatever happens to B's wake-ups, and a node whose link to the store goes silent stops
// answering from its caches within the liveness bound.

// quietLog drops the nodes' log lines (the fault tests make them warn on purpose).
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNode runs svc's background work (the feed reader) until the test ends.
func startNode(tb testing.TB, st tokend.Store, opts tokend.Options) *tokend.Service {
	tb.Helper()
	opts.Logger = quietLog
	opts.PasswordParams = cheap
	svc := tokend.NewService(st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return svc
}

func openPostgres(tb testing.TB, u string) *postgres.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, u)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// ownerToken makes an account on svc and returns its owner's PAT.
func ownerToken(tb testing.TB, svc *tokend.Service) string {
	tb.Helper()
	res, err := svc.Init(tb.Context(), tokend.InitParams{AccountName: "Feed", Plan: perm.PlanEnterprise,
		Email: "owner@example.com", Password: "correct horse battery"})
	if err != nil {
		tb.Fatalf("Init: %v", err)
	}
	return res.Token
}

// warm verifies raw on svc until the answer comes from svc's cache (the node has read the
// feed and cached the token), so that a later refusal proves the cache entry was dropped.
func warm(tb testing.TB, svc *tokend.Service, raw string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 2000 && time.Now().Before(deadline); i++ {
		before := svc.Stats().VerifiedFromCache
		if _, err := svc.Authenticate(tb.Context(), raw, "127.0.0.1"); err != nil {
			tb.Fatalf("Authenticate before the revocation: %v", err)
		}
		if svc.Stats().VerifiedFromCache > before {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatal("the token never came from the node's cache within 10s")
}

// refusedWithin verifies raw on svc until it is refused and returns how long that took; it
// fails tb when svc still serves the token after bound. Each try gets ctx with a timeout, so
// a node that hangs on its store counts as refusing once the timeout passes.
func refusedWithin(tb testing.TB, svc *tokend.Service, raw string, bound time.Duration) (time.Duration, error) {
	tb.Helper()
	start := time.Now()
	for i := 0; i < 100_000 && time.Since(start) < bound; i++ {
		ctx, cancel := context.WithTimeout(tb.Context(), bound)
		_, err := svc.Authenticate(ctx, raw, "127.0.0.1")
		cancel()
		if err != nil {
			return time.Since(start), err
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatalf("the revoked token was still served %v after the revocation", bound)
	return 0, nil
}

// wakeupsThrough is a store whose wake-ups come through another connection (through a proxy
// the test freezes); everything else goes to the store itself. Both are real PostgreSQL stores.
type wakeupsThrough struct {
	tokend.Store
	listener tokend.Store
}

func (w wakeupsThrough) Subscribe(ctx context.Context, wake func(int64)) error {
	return w.listener.Subscribe(ctx, wake)
}

// TestRevocationReachesOtherNode revokes a token on node A and checks that node B, which had
// it cached, refuses it within the bound: with wake-ups, with its wake-ups silently lost, and
// polling only. The bound is the poll interval plus slack for a loaded machine; what the
// propagation takes in practice is measured in bench/feedprop.
func TestRevocationReachesOtherNode(t *testing.T) {
	tests := []struct {
		name       string
		pollOnly   bool
		dropWakeup bool
	}{
		{name: "wake-ups"},
		{name: "wake-up lost", dropWakeup: true},
		{name: "polling only", pollOnly: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := pgtest.SchemaURL(t)
			a := startNode(t, openPostgres(t, u), tokend.Options{})
			var stB tokend.Store = openPostgres(t, u)
			var proxy *pgtest.Proxy
			if tt.dropWakeup {
				proxy = pgtest.NewProxy(t, u)
				stB = wakeupsThrough{Store: stB, listener: openPostgres(t, proxy.URL(u))}
			}
			b := startNode(t, stB, tokend.Options{FeedPollOnly: tt.pollOnly})
			raw := ownerToken(t, a)
			warm(t, b, raw)
			if proxy != nil {
				proxy.Freeze()
				defer proxy.Thaw()
			}
			if _, err := a.RevokeLeaked(t.Context(), raw, "127.0.0.1", "test"); err != nil {
				t.Fatalf("RevokeLeaked on A: %v", err)
			}
			took, err := refusedWithin(t, b, raw, 5*time.Second)
			if !errors.Is(err, tokend.ErrInvalidToken) {
				t.Errorf("B's answer to the revoked token: got %v, want %v", err, tokend.ErrInvalidToken)
			}
			t.Logf("B refused the revoked token %v after A's commit", took)
			st := b.Stats()
			if st.FeedReadAt.IsZero() {
				t.Errorf("B's last feed read: got none, want a time")
			}
			if !tt.pollOnly && !tt.dropWakeup && st.FeedHeard == 0 {
				t.Errorf("B's newest announced entry: got 0, want the revocation's (B applied %d)", st.FeedSeq)
			}
		})
	}
}

// TestStalledNodeStopsTrustingCaches freezes the link between node B and PostgreSQL (a proxy
// that stops forwarding without closing), revokes on A, and checks that B stops serving the
// token within the liveness bound (FeedStaleAfter plus a store timeout), long before the cache
// TTL; and that B refuses it as invalid once the link comes back.
func TestStalledNodeStopsTrustingCaches(t *testing.T) {
	u := pgtest.SchemaURL(t)
	proxy := pgtest.NewProxy(t, u)
	a := startNode(t, openPostgres(t, u), tokend.Options{})
	b := startNode(t, openPostgres(t, proxy.URL(u)), tokend.Options{CacheTTL: 10 * time.Minute})
	defer proxy.Thaw() // before the nodes stop, so that their last flush goes through
	raw := ownerToken(t, a)
	warm(t, b, raw)

	proxy.Freeze()
	if _, err := a.RevokeLeaked(t.Context(), raw, "127.0.0.1", "test"); err != nil {
		t.Fatalf("RevokeLeaked on A: %v", err)
	}
	// Stale 3 s after the start of its last good read at most, then a read-through bounded by
	// the 1 s poll interval: B stops serving the token within about 4 s.
	took, err := refusedWithin(t, b, raw, 15*time.Second)
	if code := tokend.ErrorCode(err); code != tokend.EUnavailable && code != tokend.EUnauthenticated {
		t.Errorf("B's answer while cut off: got %v, want %q or %q", err, tokend.EUnavailable, tokend.EUnauthenticated)
	}
	t.Logf("B stopped serving the revoked token %v after A's commit (%v)", took, err)

	proxy.Thaw()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 3000 && time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err = b.Authenticate(ctx, raw, "127.0.0.1")
		cancel()
		if errors.Is(err, tokend.ErrInvalidToken) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("B's answer 30s after the link came back: got %v, want %v", err, tokend.ErrInvalidToken)
}

// TestFeedSQLite checks the same discipline within SQLite's one node: a change drops the
// node's caches at once, and the feed holds the entry the change wrote.
func TestFeedSQLite(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tokend.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	svc := startNode(t, st, tokend.Options{})
	raw := ownerToken(t, svc)
	warm(t, svc, raw)
	before, err := st.FeedHead(t.Context())
	if err != nil {
		t.Fatalf("FeedHead: %v", err)
	}
	tok, err := svc.RevokeLeaked(t.Context(), raw, "127.0.0.1", "test")
	if err != nil {
		t.Fatalf("RevokeLeaked: %v", err)
	}
	if _, err := svc.Authenticate(t.Context(), raw, "127.0.0.1"); !errors.Is(err, tokend.ErrInvalidToken) {
		t.Errorf("Authenticate right after the revocation: got %v, want %v", err, tokend.ErrInvalidToken)
	}
	cs, err := st.Changes(t.Context(), before, 10)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if len(cs) != 1 || cs[0].Invalidation != (tokend.Invalidation{TokenID: tok.ID}) {
		t.Errorf("feed after the revocation: got %+v, want one entry for token %d", cs, tok.ID)
	}
}

// TestEveryCacheFollowsTheFeed checks that the account and IP-policy caches of node B are
// dropped by changes made on node A, as the token cache is: B answers from its caches first,
// then sees A's changes within the poll interval (plus slack), polling only so that nothing
// but the feed carries them.
func TestEveryCacheFollowsTheFeed(t *testing.T) {
	u := pgtest.SchemaURL(t)
	a := startNode(t, openPostgres(t, u), tokend.Options{})
	b := startNode(t, openPostgres(t, u), tokend.Options{FeedPollOnly: true})
	ctx := t.Context()
	res, err := a.Init(ctx, tokend.InitParams{AccountName: "Before", Plan: perm.PlanEnterprisePlus,
		Email: "owner@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	acct := res.Account.ID
	warm(t, b, res.Token)
	pA, err := a.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		t.Fatalf("Authenticate on A: %v", err)
	}
	pB, err := b.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		t.Fatalf("Authenticate on B: %v", err)
	}
	// B caches the account row and its (empty, switched-off) IP policy.
	for range 2 {
		if got, err := b.Account(ctx, pB, acct); err != nil || got.Name != "Before" {
			t.Fatalf("B's account before: got %v (%v), want the name Before", got, err)
		}
		if err := b.CheckIP(ctx, pB, "10.1.2.3"); err != nil {
			t.Fatalf("B's CheckIP before: got %v, want nil", err)
		}
	}

	name := "After"
	if _, err := a.UpdateAccount(ctx, pA, acct, tokend.AccountUpdate{Name: &name}); err != nil {
		t.Fatalf("UpdateAccount on A: %v", err)
	}
	if _, err := a.CreateIPRule(ctx, pA, acct, tokend.IPRuleInput{Name: "loopback", Type: tokend.IPAllow,
		CIDRs: []string{"127.0.0.0/8"}}); err != nil {
		t.Fatalf("CreateIPRule on A: %v", err)
	}
	if _, err := a.SetIPRestrictions(ctx, pA, acct, true, "127.0.0.1"); err != nil {
		t.Fatalf("SetIPRestrictions on A: %v", err)
	}

	tests := []struct {
		name string
		seen func() bool
	}{
		{"account", func() bool {
			got, err := b.Account(ctx, pB, acct)
			return err == nil && got.Name == "After"
		}},
		{"IP policy", func() bool {
			return tokend.ErrorCode(b.CheckIP(ctx, pB, "10.1.2.3")) == tokend.EForbidden
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			for i := 0; !tt.seen(); i++ {
				if i > 5000 || time.Since(start) > 5*time.Second {
					t.Fatalf("B still answers from its old %s cache 5s after A's change", tt.name)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// gatedStore holds the next read of the change feed, once armed, until the test releases it.
type gatedStore struct {
	tokend.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) Changes(ctx context.Context, after int64, limit int) ([]tokend.Change, error) {
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Store.Changes(ctx, after, limit)
}

// TestLapsedNodeWaitsForTheFeed: a node whose caches stopped answering (its clock moved past
// FeedStaleAfter since its last read of the feed) does not send each request to the store
// while a read of the feed is on its way: the request waits for that read, shared, and once
// it succeeds the cached token answers. A node that lost trust because its store is slow
// would otherwise pile a read-through per request onto the store, the feed's read among them.
func TestLapsedNodeWaitsForTheFeed(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			st, _ := open(t)
			gated := &gatedStore{Store: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
			counted := &countingStore{Store: gated}
			// The account before the node starts, so that the node's first read of the feed is
			// past its entries: none of them drops the token later.
			tok := ownerToken(t, tokend.NewService(st, tokend.Options{Logger: quietLog, PasswordParams: cheap}))
			var skew atomic.Int64 // the node's clock runs this far ahead of the real one
			// Hours: only the test moves the node's clock past them; the feed is read when the
			// node starts, when PostgreSQL wakes it, and when a request asks.
			svc := startNode(t, counted, tokend.Options{
				Now:              func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
				FeedPollInterval: time.Hour, FeedStaleAfter: time.Hour, CacheTTL: 24 * time.Hour,
			})
			caughtUp(t, svc, st)
			warm(t, svc, tok)

			gated.armed.Store(true)
			skew.Store(int64(2 * time.Hour))
			if svc.Stats().CachesTrusted {
				t.Fatal("the node trusts its caches 2h after its last read of the feed")
			}
			lookups, cached := counted.byHash.Load(), svc.Stats().VerifiedFromCache
			done := make(chan error, 1)
			go func() {
				_, err := svc.Authenticate(t.Context(), tok, "127.0.0.1")
				done <- err
			}()
			select {
			case <-gated.entered: // the request asked for a read of the feed, which is held
			case err := <-done:
				close(gated.release)
				t.Fatalf("the request did not wait for the feed: answered %v after %d lookups in the store",
					err, counted.byHash.Load()-lookups)
			case <-time.After(10 * time.Second):
				t.Fatal("no read of the feed within 10s of a request on the lapsed node")
			}
			if got := counted.byHash.Load() - lookups; got != 0 {
				t.Errorf("lookups in the store while the feed's read is on its way: got %d, want 0", got)
			}
			close(gated.release)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("the cached token once the feed was read: got %v, want accepted", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the request did not end within 10s of the feed's read")
			}
			if got := counted.byHash.Load() - lookups; got != 0 {
				t.Errorf("lookups in the store: got %d, want 0", got)
			}
			if got := svc.Stats().VerifiedFromCache - cached; got != 1 {
				t.Errorf("verifications from the cache: got %d, want 1", got)
			}
		})
	}
}

// TestStartingNodeReadsThrough: before its first read of the feed a node has nothing cached,
// so a verification does not wait for that read (held here) but asks the store at once.
func TestStartingNodeReadsThrough(t *testing.T) {
	for name, open := range nodeStores {
		t.Run(name, func(t *testing.T) {
			st, _ := open(t)
			tok := ownerToken(t, tokend.NewService(st, tokend.Options{Logger: quietLog, PasswordParams: cheap}))
			gated := &gatedStore{Store: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
			gated.armed.Store(true)
			defer close(gated.release)
			// An hour: the verification's bound, which only a wait for the held read would reach.
			svc := startNode(t, gated, tokend.Options{FeedPollInterval: time.Hour})
			select {
			case <-gated.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the node did not start reading the feed within 10s")
			}
			done := make(chan error, 1)
			go func() {
				_, err := svc.Authenticate(t.Context(), tok, "127.0.0.1")
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("verification while the first read of the feed is held: got %v, want accepted", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the verification waited for the node's first read of the feed (10s)")
			}
		})
	}
}
