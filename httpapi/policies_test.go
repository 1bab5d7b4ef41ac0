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
	t.Parallel()
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
	t.Parallel()
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

// Inactivity: tokens unused for the account's setting are refused at once and disabled by the
// sweep; disabled is a state of its own (shown, kept when the setting is loosened), reversed by
// an admin; deleted stays final.
func TestInactivityDisablesTokens(t *testing.T) {
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		day := func(n int) time.Time { return start.AddDate(0, 0, n) }
		clk.set(start)
		f := e.initAccount("Chapterhouse", "owner@example.com")
		a, u := f.Account.ID, f.User.ID
		r := e.do("POST", stPath(a, ""), bearer(f.Token),
			`{"name": "admin", "permission_grants": [{"permission_set": "account_admin", "all_projects": true}]}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
		}
		var st serviceTokenBody
		r.data(t, &st)
		admin := *st.TokenString
		idle, busy := mintPATAt(t, e, a, u, start), mintPATAt(t, e, a, u, start)
		idleID := patIDOf(t, e, a, u, idle)
		works := func(tok string) bool { return e.do("GET", "/api/v3/whoami/", bearer(tok), "").Code == http.StatusOK }
		settings := func(days int) *response {
			return e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", a), bearer(admin), fmt.Sprintf(`{"tokend_settings": {"inactivity_days": %d}}`, days))
		}
		for _, bad := range []int{-1, 1, 29, 366} {
			if r := settings(bad); r.Code != http.StatusBadRequest {
				t.Errorf("inactivity_days %d: got %d, want 400", bad, r.Code)
			}
		}
		if r := settings(30); r.Code != http.StatusOK {
			t.Fatalf("set inactivity: got %d: %s", r.Code, r.Raw)
		}
		clk.set(day(20))
		if !works(busy) || !works(admin) {
			t.Fatal("day 20: want both the busy PAT and the admin token to work")
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		clk.set(day(31))
		if works(idle) {
			t.Error("day 31: the idle PAT works, want it refused as inactive")
		}
		if !works(busy) || !works(admin) {
			t.Error("day 31: want the busy PAT and the admin token to work")
		}
		// The idle PAT, and the owner's first PAT, last used on day 0.
		n, err := e.svc.DisableInactive(ctx)
		if err != nil || n != 2 {
			t.Fatalf("DisableInactive: got %d (%v), want 2", n, err)
		}
		if n, _ := e.svc.DisableInactive(ctx); n != 0 {
			t.Errorf("DisableInactive again: got %d, want 0", n)
		}
		var list []struct {
			ID         int64   `json:"id"`
			State      int     `json:"state"`
			DisabledAt *string `json:"disabled_at"`
		}
		r = e.do("GET", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/?kind=pat", a), bearer(admin), "")
		r.data(t, &list)
		busyID := patIDOf(t, e, a, u, busy)
		for _, x := range list {
			if x.ID != idleID && x.ID != busyID {
				continue
			}
			if want := x.ID == idleID; (x.DisabledAt != nil) != want || x.State != 1 {
				t.Errorf("inventory token %d: got state %d disabled_at %v, want state 1 and disabled %v", x.ID, x.State, x.DisabledAt, want)
			}
		}
		if r := settings(0); r.Code != http.StatusOK {
			t.Fatalf("turn inactivity off: got %d: %s", r.Code, r.Raw)
		}
		if works(idle) {
			t.Error("with the setting off: a disabled token works, want it to stay disabled")
		}
		enable := func(tok string, id int64) *response {
			return e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/enable/", a, id), bearer(tok), "")
		}
		if r := enable(busy, idleID); r.Code != http.StatusOK {
			t.Fatalf("enable: got %d, want 200: %s", r.Code, r.Raw)
		}
		if !works(idle) {
			t.Error("after enabling: the token is refused, want it to work")
		}
		if r := settings(30); r.Code != http.StatusOK {
			t.Fatal(r.Code)
		}
		clk.set(day(50))
		if !works(idle) {
			t.Error("19 days after enabling: refused, want the clock restarted at enabling")
		}
		if r := e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/revoke/", a), bearer(admin), fmt.Sprintf(`{"token_ids": [%d]}`, busyID)); r.Code != http.StatusOK {
			t.Fatalf("revoke: got %d: %s", r.Code, r.Raw)
		}
		if r := enable(admin, busyID); r.Code != http.StatusBadRequest || works(busy) {
			t.Errorf("enable a deleted token: got %d (works %v), want 400 and still refused", r.Code, works(busy))
		}
		evs, _, err := e.store.ListAudit(ctx, tokend.AuditFilter{AccountID: a})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			if ev.TargetID == idleID {
				seen[ev.Action+"/"+ev.Detail["reason"]] = true
			}
		}
		for _, want := range []string{"token.refused/inactive", "token.disabled/inactivity", "token.refused/disabled", "token.enabled/"} {
			if !seen[want] {
				t.Errorf("audit of the idle token: got %v, want %s", seen, want)
			}
		}
	})
}
