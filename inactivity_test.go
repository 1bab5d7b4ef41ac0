package tokend_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/postgres/pgtest"
)

// meetStore makes the changes of two nodes meet: inside a transaction, each read of a token
// waits (a bounded while) until the other node has read the same token too, so that both
// decide on the same state before either writes. Only a claim made by the write itself (a
// conditional update) then keeps them from both acting.
type meetStore struct {
	tokend.Store
	m *meeting
}

type meeting struct {
	mu    sync.Mutex
	seen  map[int64]int
	ready map[int64]chan struct{}
}

func (m *meeting) arrive(id int64) {
	m.mu.Lock()
	ch, ok := m.ready[id]
	if !ok {
		ch = make(chan struct{})
		m.ready[id] = ch
	}
	m.seen[id]++
	if m.seen[id] == 2 {
		close(ch)
	}
	m.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(5 * time.Second): // the other node never came: go on alone
	}
}

func (s meetStore) Tx(ctx context.Context, fn func(tokend.Store) error) error {
	return s.Store.Tx(ctx, func(tx tokend.Store) error { return fn(meetStore{Store: tx, m: s.m}) })
}

func (s meetStore) Token(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID) (*tokend.Token, error) {
	t, err := s.Store.Token(ctx, accountID, id)
	s.m.arrive(int64(id))
	return t, err
}

// Two nodes sweeping inactive tokens at once on one PostgreSQL database disable each token
// once: one token.disabled event per token, and the counts they report add up to the tokens.
func TestConcurrentInactivitySweepsDisableOnce(t *testing.T) {
	t.Parallel()
	u := pgtest.SchemaURL(t)
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := start
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := &meeting{seen: map[int64]int{}, ready: map[int64]chan struct{}{}}
	opts := tokend.Options{Now: clock, PasswordParams: cheap, SlowHashIterations: 1000, Logger: quietLog}
	a := tokend.NewService(meetStore{Store: openPostgres(t, u), m: m}, opts)
	b := tokend.NewService(meetStore{Store: openPostgres(t, u), m: m}, opts)
	ctx := t.Context()
	res, err := a.Init(ctx, tokend.InitParams{AccountName: "Sweep", Plan: perm.PlanEnterprise,
		Email: "owner@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	acct, user := res.Account.ID, res.User.ID
	const minted = 5
	for range minted {
		if _, _, err := a.CreatePAT(ctx, p, acct, user, tokend.PATInput{Name: "idle"}); err != nil {
			t.Fatal(err)
		}
	}
	days := 30
	if _, err := a.UpdateAccount(ctx, p, acct, tokend.AccountUpdate{InactivityDays: &days}); err != nil {
		t.Fatal(err)
	}
	if err := a.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = start.AddDate(0, 0, 31)
	mu.Unlock()

	var wg sync.WaitGroup
	counts, errs := make([]int, 2), make([]error, 2)
	for i, svc := range []*tokend.Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = svc.DisableInactive(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: DisableInactive: %v", i, err)
		}
	}
	want := minted + 1 // and the owner's PAT, last used at the start
	if got := counts[0] + counts[1]; got != want {
		t.Errorf("tokens disabled: got %d (%d and %d), want %d", got, counts[0], counts[1], want)
	}
	evs, _, err := a.Store().ListAudit(ctx, tokend.AuditFilter{AccountID: acct, Page: tokend.Page{Limit: tokend.MaxLimit}})
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for _, ev := range evs {
		if ev.Action == "token.disabled" {
			per[ev.TargetID]++
		}
	}
	if len(per) != want {
		t.Errorf("tokens with a token.disabled event: got %d, want %d", len(per), want)
	}
	for id, n := range per {
		if n != 1 {
			t.Errorf("token %d: got %d token.disabled events, want 1", id, n)
		}
	}
}

// A node sweeps soon after it starts, not an hour later: nodes restarted more often than
// hourly (deploys, rescheduling) would otherwise never disable an idle token nor send an
// expiry notice.
func TestSweepSoonAfterStart(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := start
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
		svc := tokend.NewService(st, tokend.Options{Now: clock, PasswordParams: cheap,
			SlowHashIterations: 1000, Logger: quietLog, UsageFlushInterval: 5 * time.Millisecond})
		ctx := t.Context()
		res, err := svc.Init(ctx, tokend.InitParams{AccountName: "Sweep", Plan: perm.PlanEnterprise,
			Email: "owner@example.com", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.Authenticate(ctx, res.Token, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		acct := res.Account.ID
		idle, _, err := svc.CreatePAT(ctx, p, acct, res.User.ID, tokend.PATInput{Name: "idle"})
		if err != nil {
			t.Fatal(err)
		}
		days := 30
		if _, err := svc.UpdateAccount(ctx, p, acct, tokend.AccountUpdate{InactivityDays: &days}); err != nil {
			t.Fatal(err)
		}
		if err := svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		// The node starts 31 days later, with the token idle since its creation.
		set(start.AddDate(0, 0, 31))
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- svc.Run(runCtx) }()
		defer func() { stop(); <-done }()
		// The clock moves a minute per pass, up to half an hour: well before an hour has passed,
		// whenever Run read it.
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; i < 500 && time.Now().Before(deadline); i++ { // 5 s when the store is quick
			set(start.AddDate(0, 0, 31).Add(time.Duration(min(i, 30)) * time.Minute))
			tok, err := st.Token(ctx, acct, idle.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.DisabledAt.IsZero() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("the idle token was not disabled in the node's first minutes")
	})
}
