package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"tokend"
)

// An account's maximum PAT lifetime holds for PATs that exist already: tightened, those past
// it stop working (cached or not) without being deleted; loosened, they work again.
func TestMaxLifetimeHoldsAtUse(t *testing.T) {
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		clk.set(start)
		f := e.initAccount("Salusa", "owner@example.com")
		a := f.Account.ID
		r := e.do("POST", stPath(a, ""), bearer(f.Token),
			`{"name": "admin", "permission_grants": [{"permission_set": "account_admin", "all_projects": true}]}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
		}
		var st serviceTokenBody
		r.data(t, &st)
		admin := *st.TokenString
		old := mintPATAt(t, e, a, f.User.ID, start)
		young := mintPATAt(t, e, a, f.User.ID, start.Add(10*24*time.Hour))
		clk.set(start.Add(11 * 24 * time.Hour))
		works := func(tok string) bool { return e.do("GET", "/api/v3/whoami/", bearer(tok), "").Code == http.StatusOK }
		setMax := func(d time.Duration) {
			t.Helper()
			body := fmt.Sprintf(`{"tokend_settings": {"pat_max_lifetime_seconds": %d}}`, int64(d/time.Second))
			if r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", a), bearer(admin), body); r.Code != http.StatusOK {
				t.Fatalf("set the maximum lifetime to %v: got %d, want 200: %s", d, r.Code, r.Raw)
			}
		}
		if !works(old) || !works(young) { // both cached now
			t.Fatalf("before the policy: old works %v, young works %v; want both", works(old), works(young))
		}
		steps := []struct {
			name      string
			max       time.Duration
			wantOld   bool
			wantYoung bool
		}{
			{"tightened to 7 days", 7 * 24 * time.Hour, false, true},
			{"tightened to 12 hours", 12 * time.Hour, false, false},
			{"loosened to 365 days", 365 * 24 * time.Hour, true, true},
			{"removed", 0, true, true},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				setMax(s.max)
				for range 2 { // the store's answer, then the cache's
					if got := works(old); got != s.wantOld {
						t.Errorf("old PAT works: got %v, want %v", got, s.wantOld)
					}
					if got := works(young); got != s.wantYoung {
						t.Errorf("young PAT works: got %v, want %v", got, s.wantYoung)
					}
				}
			})
		}
		t.Run("blocked tokens were not deleted", func(t *testing.T) {
			ts, _, err := e.store.ListTokens(context.Background(), tokend.TokenFilter{Kind: tokend.KindPAT, AccountID: a, State: tokend.StateDeleted})
			if err != nil || len(ts) != 0 {
				t.Errorf("deleted PATs: got %d (%v), want 0", len(ts), err)
			}
		})
		t.Run("the refusal is audited with its reason", func(t *testing.T) {
			evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: a})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Action == "token.refused" && ev.Detail["reason"] == "max_lifetime" {
					return
				}
			}
			t.Errorf("got no token.refused event with reason max_lifetime among %d events", len(evs))
		})
	})
}

// A rotated-out PAT used after its overlap has ended is a reuse: refused, and recorded as
// token.reused (not as an ordinary refusal), whether or not the cache still held it.
func TestRotationReuseIsRecorded(t *testing.T) {
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		clk.set(start)
		f := e.initAccount("Kaitain", "owner@example.com")
		a, u := f.Account.ID, f.User.ID
		for _, tt := range []struct {
			name    string
			overlap int
		}{{"no overlap", 0}, {"after a 10-minute overlap", 600}} {
			t.Run(tt.name, func(t *testing.T) {
				old := mintPATAt(t, e, a, u, clk.now())
				id := patIDOf(t, e, a, u, old)
				if r := e.do("GET", "/api/v3/whoami/", bearer(old), ""); r.Code != http.StatusOK {
					t.Fatalf("before rotation: got %d, want 200", r.Code)
				}
				r := e.do("POST", fmt.Sprintf("%s%d/", patsPath(a, u), id), bearer(f.Token), fmt.Sprintf(`{"overlap_seconds": %d}`, tt.overlap))
				if r.Code != http.StatusOK {
					t.Fatalf("rotate: got %d, want 200: %s", r.Code, r.Raw)
				}
				if tt.overlap > 0 {
					if r := e.do("GET", "/api/v3/whoami/", bearer(old), ""); r.Code != http.StatusOK {
						t.Fatalf("inside the overlap: got %d, want 200", r.Code)
					}
					clk.set(clk.now().Add(time.Duration(tt.overlap+1) * time.Second))
				}
				if r := e.do("GET", "/api/v3/whoami/", bearer(old), ""); r.Code != http.StatusUnauthorized {
					t.Fatalf("reuse: got %d, want 401", r.Code)
				}
				evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: a})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, ev := range evs {
					if ev.Action == "token.reused" && ev.TargetID == id {
						n++
					}
				}
				if n != 1 {
					t.Errorf("token.reused events for token %d: got %d, want 1", id, n)
				}
			})
		}
	})
}
