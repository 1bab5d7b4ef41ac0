package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/secret"
)

func TestIntrospection(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		b := e.initAccount("B", "b@example.com")
		gateway := mintService(t, e, a.Account.ID, perm.SecurityAdmin)
		weak := mintService(t, e, a.Account.ID, perm.JobViewer)
		client := mintService(t, e, a.Account.ID, perm.JobAdmin)

		introspect := func(caller, tok string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/tokend/v1/introspect/", strings.NewReader(url.Values{"token": {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+caller)
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		for _, tc := range []struct {
			name, caller, tok string
			code              int
			active            bool
		}{
			{"a client service token", gateway, client, 200, true},
			{"the owner's PAT", gateway, a.Token, 200, true},
			{"another account's token", gateway, b.Token, 200, false},
			{"garbage", gateway, "nonsense", 200, false},
			{"a caller without token read access", weak, client, 403, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, out := introspect(tc.caller, tc.tok)
				if code != tc.code {
					t.Fatalf("got %d %v, want %d", code, out, tc.code)
				}
				if code == 200 && out["active"] != tc.active {
					t.Errorf("got active %v, want %v (%v)", out["active"], tc.active, out)
				}
			})
		}
		_, out := introspect(gateway, a.Token)
		if out["token_type"] != "pat" || out["sub"] != fmt.Sprintf("user:%d", a.User.ID) || out["client_id"] != a.TokenUID {
			t.Errorf("got %v, want the owner's PAT described", out)
		}
	})
}

func TestForwardAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("A", "owner@example.com")
	viewer := mintService(t, e, a.Account.ID, perm.JobViewer)
	base := "/api/tokend/v1/forward-auth/"
	for _, tc := range []struct {
		name, query, tok string
		want             int
	}{
		{"valid token", "", a.Token, 200},
		{"no token", "", "", 401},
		{"bad token", "", "dbtu_nope", 401},
		{"right account", fmt.Sprintf("?account_id=%d", a.Account.ID), a.Token, 200},
		{"wrong account", "?account_id=999", a.Token, 403},
		{"holds the need", "?need=service_tokens:write", a.Token, 200},
		{"lacks the need", "?need=service_tokens:write", viewer, 403},
		{"bad need", "?need=everything", a.Token, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := ""
			if tc.tok != "" {
				auth = "Bearer " + tc.tok
			}
			r := e.do("GET", base+tc.query, auth, "")
			if r.Code != tc.want {
				t.Fatalf("got %d, want %d: %s", r.Code, tc.want, r.Raw)
			}
			if tc.want == 200 && (r.Header.Get("X-Tokend-Account-Id") != fmt.Sprint(a.Account.ID) || r.Header.Get("X-Tokend-Token-Uid") == "") {
				t.Errorf("got headers %v, want the identity in X-Tokend-*", r.Header)
			}
		})
	}
}

// Introspection looks at someone else's token: it must not record a use, a daily count or an
// audit event against it, in its account or any other.
func TestIntrospectionChangesNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.initAccount("A", "owner@example.com")
		b := e.initAccount("B", "b@example.com")
		gateway := mintService(t, e, a.Account.ID, perm.SecurityAdmin)
		client := mintService(t, e, a.Account.ID, perm.JobAdmin)
		revoked := mintPAT(t, e, b.Account.ID, b.User.ID)
		if r := e.do("POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, revoked)); r.Code != http.StatusOK {
			t.Fatalf("revoke: got %d: %s", r.Code, r.Raw)
		}
		// The gateway's own first use from this address is an event of its own (token.new_ip),
		// recorded before the count: it is the gateway's use, not the introspection's.
		if r := e.do("GET", "/api/v3/whoami/", bearer(gateway), ""); r.Code != http.StatusOK {
			t.Fatalf("whoami: got %d: %s", r.Code, r.Raw)
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		auditBefore := map[tokend.AccountID]int{}
		for _, acct := range []tokend.AccountID{a.Account.ID, b.Account.ID} {
			_, n, err := e.store.ListAudit(ctx, tokend.AuditFilter{AccountID: acct})
			if err != nil {
				t.Fatal(err)
			}
			auditBefore[acct] = n
		}
		for _, tok := range []string{b.Token, revoked, client} {
			for range 3 {
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/tokend/v1/introspect/", strings.NewReader(url.Values{"token": {tok}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", "Bearer "+gateway)
				resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("introspect: got %d, want 200", resp.StatusCode)
				}
			}
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			raw  string
		}{{"another account's PAT", b.Token}, {"a revoked token of another account", revoked}, {"a token of the caller's account", client}} {
			t.Run(tc.name, func(t *testing.T) {
				parsed, err := secret.Parse(tc.raw)
				if err != nil {
					t.Fatal(err)
				}
				tok, err := e.store.TokenByUIDUnscoped(ctx, parsed.UID)
				if err != nil {
					t.Fatal(err)
				}
				if !tok.LastUsedAt.IsZero() || tok.LastUsedIP != "" {
					t.Errorf("got last used %v from %q, want never", tok.LastUsedAt, tok.LastUsedIP)
				}
				days, err := e.store.DailyUses(ctx, tok.ID, time.Now().AddDate(0, 0, -2))
				if err != nil {
					t.Fatal(err)
				}
				if len(days) != 0 {
					t.Errorf("got daily uses %v, want none", days)
				}
			})
		}
		for acct, before := range auditBefore {
			_, n, err := e.store.ListAudit(ctx, tokend.AuditFilter{AccountID: acct})
			if err != nil {
				t.Fatal(err)
			}
			if n != before {
				t.Errorf("account %d: got %d audit events, want %d as before", acct, n, before)
			}
		}
	})
}
