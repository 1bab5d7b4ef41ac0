package httpapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/secret"
)

type patBody struct {
	ID          int64   `json:"id"`
	AccountID   int64   `json:"account_id"`
	UserID      int64   `json:"user_id"`
	UID         string  `json:"uid"`
	Name        string  `json:"name"`
	State       int     `json:"state"`
	TokenString *string `json:"token_string"`
	LastUsed    *string `json:"last_used"`
	LastUsedIP  *string `json:"last_used_ip"`
	ExpiresAt   *string `json:"expires_at"`
}

// mintService stores a service token of accountID holding sets on all projects.
func mintService(t testing.TB, e *env, accountID tokend.AccountID, sets ...perm.Set) string {
	t.Helper()
	tok, uid, err := secret.Generate(rand.Reader, secret.Service, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := secret.Hash(tok)
	now := time.Now().UTC().Truncate(time.Microsecond)
	st := &tokend.Token{Kind: tokend.KindService, AccountID: accountID, UID: uid, Name: "svc", Hash: h[:],
		State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	ctx := context.Background()
	if err := e.store.CreateToken(ctx, st); err != nil {
		t.Fatal(err)
	}
	var grants []perm.Grant
	for _, s := range sets {
		grants = append(grants, perm.Grant{Set: s, AllProjects: true})
	}
	if err := e.store.SetTokenPermissions(ctx, st.AccountID, st.ID, grants); err != nil {
		t.Fatal(err)
	}
	return tok
}

func patsPath(accountID tokend.AccountID, userID tokend.UserID) string {
	return fmt.Sprintf("/api/v3/accounts/%d/users/%d/account-apikeys/", accountID, userID)
}

func createPAT(t testing.TB, e *env, tok string, accountID tokend.AccountID, userID tokend.UserID, body string) patBody {
	t.Helper()
	r := e.do("POST", patsPath(accountID, userID), bearer(tok), body)
	if r.Code != http.StatusCreated {
		t.Fatalf("create PAT: got %d, want 201: %s", r.Code, r.Raw)
	}
	var p patBody
	r.data(t, &p)
	if p.TokenString == nil || !strings.HasPrefix(*p.TokenString, "dbtu_") {
		t.Fatalf("create PAT: got token_string %v, want a dbtu_ token", p.TokenString)
	}
	return p
}

func TestPATLifecycle(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Spice Harvesting", "paul@example.com")
		acct, user := a.Account.ID, a.User.ID

		p := createPAT(t, e, a.Token, acct, user, `{"name": "laptop"}`)
		tok := *p.TokenString
		if p.Name != "laptop" || p.AccountID != int64(acct) || p.UserID != int64(user) || p.State != 1 || p.ExpiresAt != nil {
			t.Errorf("got %+v, want an active token named laptop of user %d in account %d, no expiry", p, user, acct)
		}
		if r := e.do("GET", "/api/v3/whoami/", bearer(tok), ""); r.Code != http.StatusOK {
			t.Fatalf("new PAT: got %d, want 200", r.Code)
		}

		t.Run("list shows uid and last use, never the string", func(t *testing.T) {
			r := e.do("GET", patsPath(acct, user), bearer(a.Token), "")
			var got []patBody
			r.data(t, &got)
			if len(got) != 2 {
				t.Fatalf("got %d tokens, want 2 (init's and laptop)", len(got))
			}
			for _, g := range got {
				if g.TokenString != nil {
					t.Errorf("token %d: got a token_string in a list", g.ID)
				}
				if g.ID == p.ID && (g.UID != p.UID || g.LastUsed == nil || g.LastUsedIP == nil || *g.LastUsedIP != "127.0.0.1") {
					t.Errorf("got %+v, want uid %s used from 127.0.0.1", g, p.UID)
				}
			}
			if strings.Contains(string(r.Raw), tok[5:]) {
				t.Errorf("the list holds the token string")
			}
		})

		t.Run("get", func(t *testing.T) {
			r := e.do("GET", fmt.Sprintf("%s%d/", patsPath(acct, user), p.ID), bearer(tok), "")
			var got patBody
			r.data(t, &got)
			if r.Code != http.StatusOK || got.ID != p.ID || got.TokenString != nil {
				t.Errorf("got %d %+v, want the token without its string", r.Code, got)
			}
		})

		t.Run("rotate stops the old token at once", func(t *testing.T) {
			r := e.do("POST", fmt.Sprintf("%s%d/", patsPath(acct, user), p.ID), bearer(a.Token), "")
			var fresh patBody
			r.data(t, &fresh)
			if r.Code != http.StatusOK || fresh.TokenString == nil || fresh.Name != "laptop" || fresh.ID == p.ID {
				t.Fatalf("got %d %+v, want a new token named laptop", r.Code, fresh)
			}
			if r := e.do("GET", "/api/v3/whoami/", bearer(tok), ""); r.Code != http.StatusUnauthorized {
				t.Errorf("old token after rotation: got %d, want 401", r.Code)
			}
			if r := e.do("GET", "/api/v3/whoami/", bearer(*fresh.TokenString), ""); r.Code != http.StatusOK {
				t.Errorf("new token: got %d, want 200", r.Code)
			}
			tok, p = *fresh.TokenString, fresh
		})

		t.Run("rotate with overlap keeps the old token for a while", func(t *testing.T) {
			r := e.do("POST", fmt.Sprintf("%s%d/", patsPath(acct, user), p.ID), bearer(a.Token), `{"overlap_seconds": 600}`)
			var fresh patBody
			r.data(t, &fresh)
			if r.Code != http.StatusOK {
				t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
			}
			old := e.do("GET", "/api/v3/whoami/", bearer(tok), "")
			if old.Code != http.StatusOK || old.Header.Get("X-Token-Expires-At") == "" {
				t.Errorf("old token in overlap: got %d with expiry header %q, want 200 and the header", old.Code, old.Header.Get("X-Token-Expires-At"))
			}
			tok, p = *fresh.TokenString, fresh
		})

		t.Run("delete stops it on the next request", func(t *testing.T) {
			code, _ := e.doNoBody("DELETE", fmt.Sprintf("%s%d/", patsPath(acct, user), p.ID), bearer(a.Token))
			if code != http.StatusNoContent {
				t.Fatalf("delete: got %d, want 204", code)
			}
			r := e.do("GET", "/api/v3/whoami/", bearer(tok), "")
			if r.Code != http.StatusUnauthorized {
				t.Errorf("deleted token: got %d, want 401", r.Code)
			}
			assertUnauthorized(t, r)
			r = e.do("GET", fmt.Sprintf("%s%d/", patsPath(acct, user), p.ID), bearer(a.Token), "")
			var got patBody
			r.data(t, &got)
			if got.State != 2 {
				t.Errorf("got state %d after delete, want 2", got.State)
			}
		})

		t.Run("audit names tokens by uid only", func(t *testing.T) {
			evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: acct, Page: tokend.Page{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ev := range evs {
				seen[ev.Action] = true
				for _, v := range ev.Detail {
					if strings.Contains(v, "dbtu_") {
						t.Errorf("%s: detail holds a token string", ev.Action)
					}
				}
			}
			for _, want := range []string{"account_scoped_pat.created", "token.rotate", "account_scoped_pat.deleted", "token.refused"} {
				if !seen[want] {
					t.Errorf("no %s event in the audit log", want)
				}
			}
		})

		t.Run("no token string in the logs", func(t *testing.T) {
			logs := e.logs.String()
			if strings.Contains(logs, "dbtu_") || strings.Contains(logs, a.Token[5:]) {
				t.Errorf("a token reached the logs")
			}
			if !strings.Contains(logs, "account-apikeys") {
				t.Errorf("the request log is missing; the check above proves nothing")
			}
		})
	})
}

func TestPATUserContext(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		b := e.initAccount("B", "other@example.com")
		acct := a.Account.ID
		dev := addUser(t, e, a.Token, acct, `{"email": "dev@example.com", "license_type": "developer", "password": "a long enough password"}`)
		devTok := mintPAT(t, e, acct, tokend.UserID(dev.ID))
		svc := mintService(t, e, acct, perm.AccountAdmin)

		tests := []struct {
			name, method, path, tok string
			want                    int
			msg                     string
		}{
			{"service token, even account_admin", "GET", patsPath(acct, a.User.ID), svc, http.StatusForbidden, "personal access token"},
			{"service token creating", "POST", patsPath(acct, a.User.ID), svc, http.StatusForbidden, "personal access token"},
			{"account admin on another user's tokens", "GET", patsPath(acct, tokend.UserID(dev.ID)), a.Token, http.StatusForbidden, "own user"},
			{"developer on the owner's tokens", "GET", patsPath(acct, a.User.ID), devTok, http.StatusForbidden, "own user"},
			{"another account's token", "GET", patsPath(acct, a.User.ID), b.Token, http.StatusForbidden, "belongs to another account"},
			{"own tokens", "GET", patsPath(acct, tokend.UserID(dev.ID)), devTok, http.StatusOK, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body := ""
				if tt.method == "POST" {
					body = `{"name": "x"}`
				}
				r := e.do(tt.method, tt.path, bearer(tt.tok), body)
				if r.Code != tt.want {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
				if tt.msg != "" && !strings.Contains(r.Body.Status.UserMessage, tt.msg) {
					t.Errorf("got message %q, want it to mention %q", r.Body.Status.UserMessage, tt.msg)
				}
			})
		}

		t.Run("an id of another user's token is not found", func(t *testing.T) {
			p := createPAT(t, e, devTok, acct, tokend.UserID(dev.ID), `{"name": "dev's"}`)
			r := e.do("DELETE", fmt.Sprintf("%s%d/", patsPath(acct, a.User.ID), p.ID), bearer(a.Token), "")
			if r.Code != http.StatusNotFound {
				t.Errorf("owner deleting dev's token through their own path: got %d, want 404", r.Code)
			}
		})
	})
}

// TestPATLicenses: every license may create a PAT (dbt opened them to Read-only and IT), and the
// license still caps what the PAT does; a refusal the license causes says so.
func TestPATLicenses(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		acct := a.Account.ID
		admins := groupID(t, e, acct, "Owner")
		for _, tc := range []struct {
			license   string
			write     int    // creating a project, as a member of the Owner group
			read      int    // listing projects
			writeWhy  string // what the refusal to write names
			manageSTs int    // creating a service token
		}{
			{"developer", http.StatusCreated, http.StatusOK, "", http.StatusCreated},
			{"analyst", http.StatusCreated, http.StatusOK, "", http.StatusCreated},
			{"read_only", http.StatusForbidden, http.StatusOK, "is Read-only, which allows reads only", http.StatusForbidden},
			{"it", http.StatusForbidden, http.StatusOK, "is IT, which allows security and billing administration only", http.StatusForbidden},
		} {
			t.Run(tc.license, func(t *testing.T) {
				u := addUser(t, e, a.Token, acct, fmt.Sprintf(`{"email": "%s@example.com", "license_type": %q}`, tc.license, tc.license))
				setGroups(t, e, acct, tokend.UserID(u.ID), tokend.GroupID(admins))
				first := mintPAT(t, e, acct, tokend.UserID(u.ID))
				r := e.do("POST", patsPath(acct, tokend.UserID(u.ID)), bearer(first), `{"name": "mine"}`)
				if r.Code != http.StatusCreated {
					t.Fatalf("create a PAT: got %d, want 201: %s", r.Code, r.Raw)
				}
				var created struct {
					TokenString string `json:"token_string"`
				}
				r.data(t, &created)
				tok := bearer(created.TokenString)
				r = e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), tok, fmt.Sprintf(`{"name": "by %s"}`, tc.license))
				if r.Code != tc.write {
					t.Errorf("write a project: got %d, want %d: %s", r.Code, tc.write, r.Raw)
				}
				if tc.writeWhy != "" && !strings.Contains(r.Body.Status.UserMessage, tc.writeWhy) {
					t.Errorf("refusal to write: got %q, want it to say %q", r.Body.Status.UserMessage, tc.writeWhy)
				}
				if tc.license == "read_only" {
					want := "your license in this account is Read-only"
					if !strings.Contains(r.Body.Status.UserMessage, want) {
						t.Errorf("refusal to write: got %q, want it to contain %q", r.Body.Status.UserMessage, want)
					}
				}
				if r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), tok, ""); r.Code != tc.read {
					t.Errorf("read projects: got %d, want %d: %s", r.Code, tc.read, r.Raw)
				}
				r = e.do("POST", stPath(acct, ""), tok, `{"name": "svc", "permission_grants": [{"permission_set": "job_admin"}]}`)
				if r.Code != tc.manageSTs {
					t.Errorf("create a service token: got %d, want %d: %s", r.Code, tc.manageSTs, r.Raw)
				}
			})
		}
	})
}

func TestPATFirstTokenWithPassword(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		path := patsPath(a.Account.ID, a.User.ID)
		basic := func(email, pw string) string {
			req, _ := http.NewRequest("GET", "/", nil)
			req.SetBasicAuth(email, pw)
			return req.Header.Get("Authorization")
		}
		r := e.do("POST", path, basic("OWNER@example.com", "a long enough password"), `{"name": "first"}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("right password: got %d, want 201: %s", r.Code, r.Raw)
		}
		r = e.do("POST", path, basic("owner@example.com", "wrong password"), `{"name": "x"}`)
		if r.Code != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("wrong password: got %d %q, want 401 with a Basic challenge", r.Code, r.Header.Get("WWW-Authenticate"))
		}
		// Basic works on the create endpoint only.
		if r := e.do("GET", path, basic("owner@example.com", "a long enough password"), ""); r.Code != http.StatusUnauthorized {
			t.Errorf("Basic on the list: got %d, want 401", r.Code)
		}
		var limited *response
		for i := 0; i < 10 && limited == nil; i++ {
			if r := e.do("POST", path, basic("owner@example.com", "wrong again"), `{"name": "x"}`); r.Code == http.StatusTooManyRequests {
				limited = r
			}
		}
		if limited == nil {
			t.Fatal("ten wrong passwords: never got 429")
		}
		if limited.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		// Even the right password waits now.
		if r := e.do("POST", path, basic("owner@example.com", "a long enough password"), `{"name": "x"}`); r.Code != http.StatusTooManyRequests {
			t.Errorf("right password while limited: got %d, want 429", r.Code)
		}
	})
}

func TestPATExpiry(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		acct, user := a.Account.ID, a.User.ID
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		soon := time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
		far := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)

		if r := e.do("POST", patsPath(acct, user), bearer(a.Token), fmt.Sprintf(`{"name": "x", "expires_at": %q}`, past)); r.Code != http.StatusBadRequest {
			t.Errorf("expiry in the past: got %d, want 400", r.Code)
		}
		p := createPAT(t, e, a.Token, acct, user, fmt.Sprintf(`{"name": "short", "expires_at": %q}`, soon))
		r := e.do("GET", "/api/v3/accounts/", bearer(*p.TokenString), "")
		if r.Code != http.StatusOK || r.Header.Get("X-Token-Expires-At") == "" {
			t.Errorf("token with expiry: got %d, header %q; want 200 and X-Token-Expires-At", r.Code, r.Header.Get("X-Token-Expires-At"))
		}

		// An account-wide cap: new tokens get it by default, and may not exceed it.
		r = e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", acct), bearer(a.Token), `{"tokend_settings": {"pat_max_lifetime_seconds": 86400}}`)
		if r.Code != http.StatusOK {
			t.Fatalf("set cap: got %d, want 200: %s", r.Code, r.Raw)
		}
		capped := createPAT(t, e, a.Token, acct, user, `{"name": "capped"}`)
		if capped.ExpiresAt == nil {
			t.Errorf("under a cap: got no expiry, want one a day away")
		}
		if r := e.do("POST", patsPath(acct, user), bearer(a.Token), fmt.Sprintf(`{"name": "x", "expires_at": %q}`, far)); r.Code != http.StatusBadRequest {
			t.Errorf("beyond the cap: got %d, want 400", r.Code)
		} else if !strings.Contains(r.Body.Status.DeveloperMessage, "expires_at") {
			t.Errorf("got developer_message %q, want it to name expires_at", r.Body.Status.DeveloperMessage)
		}
	})
}

func TestExpiredPATIsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	svc := tokend.NewService(e.store, tokend.Options{Now: func() time.Time { return now }})
	a := e.initAccount("A", "owner@example.com")
	ctx := tokend.NewContext(context.Background(), nil)
	p, err := svc.Authenticate(ctx, a.Token, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := svc.CreatePAT(ctx, p, a.Account.ID, a.User.ID, tokend.PATInput{Name: "brief", ExpiresAt: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, raw, "127.0.0.1"); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	now = now.Add(2 * time.Minute) // the cached principal must not outlive the token
	if _, err := svc.Authenticate(ctx, raw, "127.0.0.1"); err != tokend.ErrInvalidToken {
		t.Errorf("after expiry: got %v, want ErrInvalidToken", err)
	}
}

func TestTokenInventory(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		acct := a.Account.ID
		dev := addUser(t, e, a.Token, acct, `{"email": "dev@example.com", "license_type": "developer"}`)
		devTok := mintPAT(t, e, acct, tokend.UserID(dev.ID))
		e.do("GET", "/api/v3/whoami/", bearer(devTok), "")
		inv := fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/", acct)

		r := e.do("GET", inv+"?kind=pat", bearer(a.Token), "")
		var all []patBody
		r.data(t, &all)
		if r.Code != http.StatusOK || len(all) != 2 {
			t.Fatalf("inventory: got %d with %d tokens, want 200 with 2", r.Code, len(all))
		}
		r = e.do("GET", fmt.Sprintf("%s?user_id=%d", inv, dev.ID), bearer(a.Token), "")
		var mine []patBody
		r.data(t, &mine)
		if len(mine) != 1 || mine[0].UserID != dev.ID {
			t.Errorf("by user: got %+v, want dev's one token", mine)
		}
		if r := e.do("GET", inv, bearer(devTok), ""); r.Code != http.StatusForbidden {
			t.Errorf("a developer reading the inventory: got %d, want 403", r.Code)
		}
		if r := e.do("GET", inv+"?last_used_after=nonsense", bearer(a.Token), ""); r.Code != http.StatusBadRequest {
			t.Errorf("bad filter: got %d, want 400", r.Code)
		}

		r = e.do("POST", inv+"revoke/", bearer(a.Token), fmt.Sprintf(`{"token_ids": [%d]}`, mine[0].ID))
		if r.Code != http.StatusOK {
			t.Fatalf("bulk revoke: got %d, want 200: %s", r.Code, r.Raw)
		}
		if r := e.do("GET", "/api/v3/whoami/", bearer(devTok), ""); r.Code != http.StatusUnauthorized {
			t.Errorf("revoked by an admin: got %d, want 401", r.Code)
		}
		b := e.initAccount("B", "b@example.com")
		if r := e.do("POST", inv+"revoke/", bearer(a.Token), fmt.Sprintf(`{"token_ids": [%d]}`, tokenID(t, e, b.TokenUID))); r.Code != http.StatusBadRequest {
			t.Errorf("revoking another account's token: got %d, want 400", r.Code)
		}
	})
}

func tokenID(t testing.TB, e *env, uid string) int64 {
	t.Helper()
	tok, err := e.store.TokenByUIDUnscoped(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	return int64(tok.ID)
}

func TestTokenActivity(t *testing.T) {
	t.Parallel()
	// The service's clock is fixed a second before midnight, so "today" is the same day for
	// the requests, the flush and the check, whenever the test runs.
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		clk.set(time.Date(2026, 5, 10, 23, 59, 59, 0, time.UTC))
		a := e.initAccount("A", "owner@example.com")
		acct := a.Account.ID
		p := createPAT(t, e, a.Token, acct, a.User.ID, `{"name": "busy"}`)
		for range 3 {
			e.do("GET", "/api/v3/whoami/", bearer(*p.TokenString), "")
		}
		path := fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/activity/?days=7", acct, p.ID)
		check := func(when string) {
			t.Helper()
			r := e.do("GET", path, bearer(a.Token), "")
			var days []struct {
				Day   string `json:"day"`
				Count int64  `json:"count"`
			}
			r.data(t, &days)
			if r.Code != http.StatusOK || len(days) != 7 {
				t.Fatalf("%s: got %d with %d days, want 200 with 7", when, r.Code, len(days))
			}
			const today = "2026-05-10"
			if last := days[6]; last.Day != today || last.Count != 3 {
				t.Errorf("%s: got last day %+v, want %s with 3 requests", when, last, today)
			}
			if days[0].Count != 0 {
				t.Errorf("%s: got %d requests six days ago, want 0", when, days[0].Count)
			}
		}
		check("before the flush")
		if err := e.svc.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
		check("after the flush")
		if r := e.do("GET", strings.Replace(path, "days=7", "days=0", 1), bearer(a.Token), ""); r.Code != http.StatusBadRequest {
			t.Errorf("days=0: got %d, want 400", r.Code)
		}
	})
}

// A token replaced in a rotation still works through its overlap, but it cannot rotate again:
// only the newest token of a chain rotates it, so there is one live successor.
func TestOnlyTheNewestTokenRotates(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Arrakis", "paul@example.com")
		acct, user := a.Account.ID, a.User.ID
		var old struct {
			ID          int64  `json:"id"`
			TokenString string `json:"token_string"`
		}
		r := e.do("POST", patsPath(acct, user), bearer(a.Token), `{"name": "laptop"}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("create: got %d: %s", r.Code, r.Raw)
		}
		r.data(t, &old)
		rotate := func(tok string, id int64) *response {
			return e.do("POST", fmt.Sprintf("%s%d/", patsPath(acct, user), id), bearer(tok), `{"overlap_seconds": 600}`)
		}
		r = rotate(old.TokenString, old.ID)
		if r.Code != http.StatusOK {
			t.Fatalf("first rotation: got %d: %s", r.Code, r.Raw)
		}
		var next struct {
			ID          int64  `json:"id"`
			TokenString string `json:"token_string"`
		}
		r.data(t, &next)

		tests := []struct {
			name string
			tok  string
			id   int64
			want int
		}{
			{"the replaced token rotates itself again", old.TokenString, old.ID, http.StatusBadRequest},
			{"another token rotates the replaced one", a.Token, old.ID, http.StatusBadRequest},
			{"the replaced token still works", old.TokenString, 0, http.StatusOK},
			{"the newest rotates itself", next.TokenString, next.ID, http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var r *response
				if tt.id == 0 {
					r = e.do("GET", "/api/v3/whoami/", bearer(tt.tok), "")
				} else {
					r = rotate(tt.tok, tt.id)
				}
				if r.Code != tt.want {
					t.Errorf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
			})
		}
		ts, _, err := e.store.ListTokens(context.Background(), tokend.TokenFilter{Kind: tokend.KindPAT, AccountID: acct,
			UserID: user, State: tokend.StateActive, Page: tokend.Page{Limit: tokend.MaxLimit}})
		if err != nil {
			t.Fatal(err)
		}
		var laptops []int64
		for _, tok := range ts {
			if tok.Name == "laptop" && tok.RotatedAt.IsZero() {
				laptops = append(laptops, int64(tok.ID))
			}
		}
		if len(laptops) != 1 {
			t.Errorf("got %d newest tokens in the chain %v, want 1", len(laptops), laptops)
		}
	})
}
