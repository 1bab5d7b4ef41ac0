package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"tokend"
)

// rotated is a token a rotation returned: its id and its string, shown once.
type rotated struct {
	ID          int64  `json:"id"`
	TokenString string `json:"token_string"`
}

// rotatePAT rotates the PAT id of user u with tok and an overlap in seconds.
func rotatePAT(t testing.TB, e *env, tok string, a int64, u int64, id tokend.TokenID, overlap int) rotated {
	t.Helper()
	r := e.do("POST", fmt.Sprintf("%s%d/", patsPath(tokend.AccountID(a), tokend.UserID(u)), id), bearer(tok), fmt.Sprintf(`{"overlap_seconds": %d}`, overlap))
	if r.Code != http.StatusOK {
		t.Fatalf("rotate PAT %d: got %d, want 200: %s", id, r.Code, r.Raw)
	}
	var out rotated
	r.data(t, &out)
	return out
}

// rotateST rotates service token id with tok and an overlap in seconds.
func rotateST(t testing.TB, e *env, tok string, a, id int64, overlap int) rotated {
	t.Helper()
	r := e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/%d/rotate/", a, id), bearer(tok),
		fmt.Sprintf(`{"overlap_seconds": %d}`, overlap))
	if r.Code != http.StatusOK {
		t.Fatalf("rotate service token %d: got %d, want 200: %s", id, r.Code, r.Raw)
	}
	var out rotated
	r.data(t, &out)
	return out
}

// setPolicy sets one of the account's boolean token policies through the API.
func setPolicy(t testing.TB, e *env, tok string, a int64, field string, on bool) {
	t.Helper()
	r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", a), bearer(tok), fmt.Sprintf(`{"tokend_settings": {%q: %v}}`, field, on))
	if r.Code != http.StatusOK {
		t.Fatalf("set %s to %v: got %d, want 200: %s", field, on, r.Code, r.Raw)
	}
	var acct struct {
		Settings map[string]any `json:"tokend_settings"`
	}
	r.data(t, &acct)
	if acct.Settings[field] != on {
		t.Fatalf("after setting %s to %v: got %v in tokend_settings", field, on, acct.Settings[field])
	}
}

// Reuse of a rotated-out token after its overlap revokes its whole rotation chain when the
// account says so (predecessors, successors, the live token), in one change with its audit
// events; when it does not (the default), only the reused token is refused.
func TestReuseRevokesTheChain(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		clk.set(start)
		f := e.initAccount("Caladan", "owner@example.com")
		a, u := f.Account.ID, f.User.ID
		works := func(tok string) bool { return e.do("GET", "/api/v3/whoami/", bearer(tok), "").Code == http.StatusOK }
		r := e.do("POST", stPath(a, ""), bearer(f.Token),
			`{"name": "deploy", "permission_grants": [{"permission_set": "job_admin", "all_projects": true}]}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
		}
		var st serviceTokenBody
		r.data(t, &st)

		t.Run("off: only the reused token is refused", func(t *testing.T) {
			first := mintPATAt(t, e, a, u, clk.now())
			second := rotatePAT(t, e, f.Token, int64(a), int64(u), tokend.TokenID(patIDOf(t, e, a, u, first)), 0)
			if !works(second.TokenString) || works(first) {
				t.Fatal("after rotation: want the new PAT to work and the old one refused")
			}
			if !works(second.TokenString) {
				t.Error("after the reuse: the live PAT is refused, want it to work with the setting off")
			}
		})

		setPolicy(t, e, f.Token, int64(a), "reuse_revokes_chain", true)
		// Each chain returns its first token (the one reused), the ids the reuse revokes (those
		// a rotation without an overlap has not deleted already, the reused one included) and
		// the strings of the later tokens.
		chains := []struct {
			name   string
			tokens func(t *testing.T) (first string, ids []int64, later []string)
		}{
			{"personal access tokens", func(t *testing.T) (string, []int64, []string) {
				first := mintPATAt(t, e, a, u, clk.now())
				id := patIDOf(t, e, a, u, first)
				second := rotatePAT(t, e, f.Token, int64(a), int64(u), tokend.TokenID(id), 0)
				third := rotatePAT(t, e, f.Token, int64(a), int64(u), tokend.TokenID(second.ID), 600)
				return first, []int64{second.ID, third.ID}, []string{second.TokenString, third.TokenString}
			}},
			{"service tokens", func(t *testing.T) (string, []int64, []string) {
				second := rotateST(t, e, f.Token, int64(a), *st.ID, 60)
				third := rotateST(t, e, f.Token, int64(a), second.ID, 0)
				return *st.TokenString, []int64{*st.ID, third.ID}, []string{second.TokenString, third.TokenString}
			}},
		}
		for _, c := range chains {
			t.Run("on: "+c.name, func(t *testing.T) {
				first, ids, later := c.tokens(t)
				live := later[len(later)-1]
				if !works(live) { // cached now
					t.Fatal("before the reuse: the live token is refused")
				}
				clk.set(clk.now().Add(11 * time.Minute)) // past every overlap
				if works(first) {
					t.Fatal("the reused token works, want it refused")
				}
				for i, tok := range later {
					if works(tok) {
						t.Errorf("token %d of the chain works after the reuse, want it revoked", i+2)
					}
				}
				if !works(f.Token) {
					t.Error("the owner's PAT, outside the chain, is refused")
				}
				evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: a, Page: tokend.Page{Limit: tokend.MaxLimit}})
				if err != nil {
					t.Fatal(err)
				}
				revoked := map[int64]int{}
				var reused []map[string]string
				firstUID := first[5:15]
				for _, ev := range evs {
					switch {
					case ev.Action == "token.reused" && ev.Detail["uid"] == firstUID:
						reused = append(reused, ev.Detail)
					case ev.Detail["reason"] == "rotation_reuse":
						revoked[ev.TargetID]++
					}
				}
				if want := fmt.Sprint(len(ids)); len(reused) != 1 || reused[0]["chain_revoked"] != want {
					t.Errorf("token.reused events of the first token: got %v, want one with chain_revoked %s", reused, want)
				}
				for _, id := range ids {
					if revoked[id] != 1 {
						t.Errorf("revocation events of token %d: got %d, want 1", id, revoked[id])
					}
				}
				if works(first) {
					t.Error("a second reuse: the token works")
				}
			})
		}
	})
}

// With overlaps from first use, a rotated-out token works until its successor is first used
// and for the overlap from then (the use recorded by the batched flush), and at the latest
// MaxFirstUseWait and the overlap after the rotation; without the setting the overlap starts
// at the rotation.
func TestOverlapStartsAtFirstUse(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		clk.set(start)
		f := e.initAccount("Ix", "owner@example.com")
		a, u := f.Account.ID, f.User.ID
		works := func(tok string) bool { return e.do("GET", "/api/v3/whoami/", bearer(tok), "").Code == http.StatusOK }
		const overlap = 10 * time.Minute
		rotation := func() (old string, fresh rotated, at time.Time) {
			old = mintPATAt(t, e, a, u, clk.now())
			if !works(old) { // cached
				t.Fatal("before rotation: refused")
			}
			return old, rotatePAT(t, e, f.Token, int64(a), int64(u), tokend.TokenID(patIDOf(t, e, a, u, old)), int(overlap/time.Second)), clk.now()
		}
		flush := func() {
			t.Helper()
			if err := e.svc.FlushUsage(ctx); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("off: from the rotation", func(t *testing.T) {
			old, _, at := rotation()
			clk.set(at.Add(overlap + time.Second))
			if works(old) {
				t.Error("past the overlap from the rotation: works, want refused")
			}
		})

		setPolicy(t, e, f.Token, int64(a), "overlap_from_first_use", true)
		t.Run("on: from the first use", func(t *testing.T) {
			old, fresh, at := rotation()
			clk.set(at.Add(2 * time.Hour))
			flush()
			if !works(old) {
				t.Fatal("2 hours after the rotation, the new token unused: refused, want it to work")
			}
			firstUse := clk.now()
			if !works(fresh.TokenString) {
				t.Fatal("the new token is refused")
			}
			clk.set(firstUse.Add(overlap + time.Minute))
			if !works(old) {
				t.Error("the new token's use not yet flushed: refused, want the old one to keep working")
			}
			flush()
			clk.set(firstUse.Add(overlap - time.Second))
			if !works(old) {
				t.Error("inside the overlap from the first use: refused, want it to work")
			}
			clk.set(firstUse.Add(overlap + time.Second))
			if works(old) {
				t.Error("past the overlap from the first use: works, want refused")
			}
			flush()
			if works(old) {
				t.Error("a flush later: works, want refused")
			}
			if !works(fresh.TokenString) {
				t.Error("the new token is refused")
			}
		})

		t.Run("on: the wait is bounded", func(t *testing.T) {
			old, _, at := rotation()
			clk.set(at.Add(tokend.MaxFirstUseWait + overlap - time.Second))
			if !works(old) {
				t.Error("just inside the bound, the new token never used: refused, want it to work")
			}
			clk.set(at.Add(tokend.MaxFirstUseWait + overlap))
			if works(old) {
				t.Error("at the bound: works, want refused")
			}
		})

		evs, _, err := e.store.ListAudit(ctx, tokend.AuditFilter{AccountID: a, Page: tokend.Page{Limit: tokend.MaxLimit}})
		if err != nil {
			t.Fatal(err)
		}
		started := 0
		for _, ev := range evs {
			if ev.Action == "token.overlap_started" {
				started++
			}
		}
		if started != 1 {
			t.Errorf("token.overlap_started events: got %d, want 1", started)
		}
	})
}
