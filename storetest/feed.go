package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"tokend"
)

// readFeed returns every entry past after.
func readFeed(tb testing.TB, st tokend.Store, after int64) []tokend.Change {
	tb.Helper()
	cs, err := st.Changes(tb.Context(), after, 100_000)
	must(tb, err, fmt.Sprintf("Changes(%d)", after))
	return cs
}

func head(tb testing.TB, st tokend.Store) int64 {
	tb.Helper()
	n, err := st.FeedHead(tb.Context())
	must(tb, err, "FeedHead")
	return n
}

func appendIn(tb testing.TB, st tokend.Store, at time.Time, invs ...tokend.Invalidation) {
	tb.Helper()
	must(tb, st.Tx(tb.Context(), func(tx tokend.Store) error { return tx.AppendChanges(tb.Context(), at, invs) }),
		"AppendChanges in a Tx")
}

// contiguous reports the first hole in cs's numbering, starting at from+1.
func contiguous(cs []tokend.Change, from int64) error {
	for i, c := range cs {
		if want := from + 1 + int64(i); c.Seq != want {
			return fmt.Errorf("entry %d is numbered %d, want %d", i, c.Seq, want)
		}
	}
	return nil
}

func testFeed(t *testing.T, open func(testing.TB) tokend.Store) {
	invs := []tokend.Invalidation{
		{All: true},
		{TokenID: 7},
		{UserID: 3},
		{UserID: 3, AccountID: 2},
		{AccountID: 2},
		{AccountID: 2, Projects: true},
	}

	t.Run("AppendAndRead", func(t *testing.T) {
		st := open(t)
		if got := head(t, st); got != 0 {
			t.Errorf("FeedHead of a new store: got %d, want 0", got)
		}
		if got := readFeed(t, st, 0); len(got) != 0 {
			t.Errorf("Changes of a new store: got %d entries, want 0", len(got))
		}
		appendIn(t, st, at(time.Second), invs...)
		got := readFeed(t, st, 0)
		if len(got) != len(invs) {
			t.Fatalf("Changes(0): got %d entries, want %d", len(got), len(invs))
		}
		if err := contiguous(got, 0); err != nil {
			t.Errorf("Changes(0): %v", err)
		}
		for i, c := range got {
			if c.Invalidation != invs[i] {
				t.Errorf("entry %d: got %+v, want %+v", c.Seq, c.Invalidation, invs[i])
			}
			if !c.At.Equal(at(time.Second)) {
				t.Errorf("entry %d: At got %v, want %v", c.Seq, c.At, at(time.Second))
			}
		}
		if got, want := head(t, st), int64(len(invs)); got != want {
			t.Errorf("FeedHead: got %d, want %d", got, want)
		}
		page, err := st.Changes(t.Context(), 2, 2)
		must(t, err, "Changes(2, limit 2)")
		if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
			t.Errorf("Changes(2, limit 2): got %v, want entries 3 and 4", page)
		}
		// Outside a Tx the store opens one of its own.
		must(t, st.AppendChanges(t.Context(), at(2*time.Second), []tokend.Invalidation{{TokenID: 9}}), "AppendChanges outside a Tx")
		if got := readFeed(t, st, int64(len(invs))); len(got) != 1 || got[0].TokenID != 9 {
			t.Errorf("after AppendChanges outside a Tx: got %v, want one entry for token 9", got)
		}
	})

	// A rolled-back change leaves no entry and no hole: the next change takes its number.
	t.Run("RolledBack", func(t *testing.T) {
		st := open(t)
		appendIn(t, st, base, tokend.Invalidation{TokenID: 1})
		boom := errors.New("boom")
		err := st.Tx(t.Context(), func(tx tokend.Store) error {
			must(t, tx.AppendChanges(t.Context(), base, []tokend.Invalidation{{TokenID: 2}}), "AppendChanges")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx: got %v, want boom", err)
		}
		if got := head(t, st); got != 1 {
			t.Errorf("FeedHead after a rollback: got %d, want 1", got)
		}
		appendIn(t, st, base, tokend.Invalidation{TokenID: 3})
		got := readFeed(t, st, 0)
		if err := contiguous(got, 0); err != nil || len(got) != 2 || got[1].TokenID != 3 {
			t.Errorf("Changes(0) after a rollback: got %v (%v), want token 1 then token 3 as 1 and 2", got, err)
		}
	})

	// Pruning removes old entries and never lets a number come back.
	t.Run("Prune", func(t *testing.T) {
		st := open(t)
		appendIn(t, st, at(0), tokend.Invalidation{TokenID: 1}, tokend.Invalidation{TokenID: 2})
		appendIn(t, st, at(time.Hour), tokend.Invalidation{TokenID: 3})
		n, err := st.PruneChanges(t.Context(), at(30*time.Minute))
		must(t, err, "PruneChanges")
		if n != 2 {
			t.Errorf("PruneChanges: got %d deleted, want 2", n)
		}
		if got := readFeed(t, st, 0); len(got) != 1 || got[0].Seq != 3 {
			t.Errorf("Changes(0) after pruning: got %v, want only entry 3", got)
		}
		_, err = st.PruneChanges(t.Context(), at(2*time.Hour))
		must(t, err, "PruneChanges of everything")
		if got := head(t, st); got != 3 {
			t.Errorf("FeedHead after pruning everything: got %d, want 3", got)
		}
		appendIn(t, st, at(3*time.Hour), tokend.Invalidation{TokenID: 4})
		if got := readFeed(t, st, 0); len(got) != 1 || got[0].Seq != 4 {
			t.Errorf("Changes(0) after pruning everything and appending: got %v, want entry 4", got)
		}
	})

	// Contract: whatever order concurrent changes commit in, a reader never sees entry n
	// before every entry below it (a reader past n would never read a late lower one).
	t.Run("ConcurrentWritersNoHoles", func(t *testing.T) {
		st := open(t)
		const writers, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					err := st.Tx(t.Context(), func(tx tokend.Store) error {
						if err := tx.AppendChanges(t.Context(), base, []tokend.Invalidation{{TokenID: tokend.TokenID(w*1000 + i)}}); err != nil {
							return err
						}
						// Work after the append keeps the transaction open a while, so that
						// other writers' commits can race this one.
						_, err := tx.FeedHead(t.Context())
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		reads := 0
		for finished := false; !finished; reads++ {
			select {
			case <-done:
				finished = true
			default:
			}
			if err := contiguous(readFeed(t, st, 0), 0); err != nil {
				t.Fatalf("read %d while writers commit: %v", reads, err)
			}
			if reads > 100_000 {
				t.Fatal("writers still running after 100,000 reads")
			}
		}
		close(errs)
		for err := range errs {
			t.Fatalf("writer: %v", err)
		}
		if got := readFeed(t, st, 0); len(got) != writers*each {
			t.Errorf("Changes(0): got %d entries, want %d", len(got), writers*each)
		}
	})

	// Subscribe either returns at once (a single-node store) or runs until its ctx ends; either
	// way it must return promptly once ctx is cancelled.
	t.Run("SubscribeStops", func(t *testing.T) {
		st := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		started := make(chan struct{}, 1)
		go func() {
			done <- st.Subscribe(ctx, func(int64) {
				select {
				case started <- struct{}{}:
				default:
				}
			})
		}()
		select {
		case <-started:
		case <-done: // a single-node store
			return
		case <-time.After(5 * time.Second):
			t.Fatal("Subscribe: neither returned nor started listening within 5s")
		}
		appendIn(t, st, base, tokend.Invalidation{TokenID: 1})
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Subscribe after its ctx was cancelled: got %v, want nil", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Subscribe: still running 2s after its ctx was cancelled, want it to return")
		}
	})

	t.Run("SubscribeCancelledCtx", func(t *testing.T) {
		st := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		done := make(chan error, 1)
		go func() { done <- st.Subscribe(ctx, func(int64) {}) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("Subscribe with a cancelled ctx: still running after 2s, want it to return")
		}
	})
}
