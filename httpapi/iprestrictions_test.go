package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"tokend"
	"tokend/perm"
)

func TestIPRestrictions(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccountOn(perm.PlanEnterprisePlus, "Fenced", "owner@example.com")
		b := e.initAccount("Open", "b@example.com")
		acct := a.Account.ID
		rules := fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", acct)
		set := fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions-set/", acct)
		svc := mintService(t, e, acct, perm.JobViewer)

		// Calls from other addresses, through a trusted proxy.
		from := func(ip, tok string) (int, []byte) {
			t.Helper()
			r := e.from(ip, "GET", fmt.Sprintf("/api/v3/accounts/%d/", acct), "Bearer "+tok, "")
			return r.Code, r.Raw
		}

		t.Run("an admin cannot lock themselves out", func(t *testing.T) {
			// Switching the set on with the rule would block 127.0.0.1: the request is refused
			// and, being one write, saves no rule either.
			r := e.do("POST", rules, bearer(a.Token), `{"name": "office", "type": 1, "rule_set_enabled": true, "cidrs": [{"cidr": "10.0.0.0/8"}]}`)
			if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.UserMessage, "block your own address") {
				t.Fatalf("create and enable: got %d: %s, want 400", r.Code, r.Raw)
			}
			stored, err := e.store.ListIPRules(context.Background(), acct)
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != 0 {
				t.Fatalf("after the refused create: got %d rules stored, want 0", len(stored))
			}
			if r := e.do("POST", rules, bearer(a.Token), `{"name": "office", "type": 1, "cidrs": [{"cidr": "10.0.0.0/8"}]}`); r.Code != http.StatusOK {
				t.Fatalf("create without enabling: got %d: %s, want 200", r.Code, r.Raw)
			}
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": true}`); r.Code != http.StatusBadRequest ||
				!strings.Contains(r.Body.Status.UserMessage, "block your own address") {
				t.Errorf("enable with 127.0.0.1 outside every allow rule: got %d %q, want 400", r.Code, r.Body.Status.UserMessage)
			}
		})

		r := e.do("POST", rules, bearer(a.Token), `{"name": "here", "type": 1, "cidrs": [{"cidr": "127.0.0.0/8"}, {"cidr": "::1"}]}`)
		if r.Code != http.StatusOK {
			t.Fatalf("allow loopback: got %d: %s", r.Code, r.Raw)
		}
		var here struct {
			ID    int64 `json:"id"`
			CIDRs []struct {
				CIDR     string  `json:"cidr"`
				CIDRIPv6 *string `json:"cidr_ipv6"`
			} `json:"cidrs"`
		}
		r.data(t, &here)
		if len(here.CIDRs) != 2 || here.CIDRs[0].CIDR != "127.0.0.0/8" || here.CIDRs[0].CIDRIPv6 != nil ||
			here.CIDRs[1].CIDR != "::1/128" || here.CIDRs[1].CIDRIPv6 == nil || *here.CIDRs[1].CIDRIPv6 != "::1/128" {
			t.Errorf("got cidrs %+v, want 127.0.0.0/8 and ::1/128 (in cidr and cidr_ipv6)", here.CIDRs)
		}
		r = e.do("POST", rules, bearer(a.Token), `{"name": "guest wifi", "type": 2, "cidrs": [{"cidr": "10.9.0.0/16"}]}`)
		if r.Code != http.StatusOK {
			t.Fatalf("deny: got %d: %s", r.Code, r.Raw)
		}
		// Warm the cache from a soon-to-be-blocked address: switching on must still apply at once.
		if code, _ := from("10.1.2.3", a.Token); code != http.StatusOK {
			t.Fatalf("before switching on: got %d, want 200", code)
		}
		if r := e.do("POST", set, bearer(a.Token), `{"enabled": true}`); r.Code != http.StatusOK {
			t.Fatalf("enable: got %d: %s", r.Code, r.Raw)
		}

		for _, tc := range []struct {
			name, ip, tok string
			want          int
			service       bool
		}{
			{"loopback, allowed", "127.0.0.1", a.Token, http.StatusOK, false},
			{"office, allowed", "10.1.2.3", a.Token, http.StatusOK, false},
			{"guest wifi, denied inside an allowed range", "10.9.0.7", a.Token, http.StatusForbidden, false},
			{"elsewhere, denied", "203.0.113.5", a.Token, http.StatusForbidden, false},
			{"a service token elsewhere", "203.0.113.5", svc, http.StatusForbidden, true},
			{"IPv6 elsewhere", "2001:db8::1", a.Token, http.StatusForbidden, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := from(tc.ip, tc.tok)
				if code != tc.want {
					t.Fatalf("got %d, want %d: %s", code, tc.want, body)
				}
				if code != http.StatusForbidden {
					return
				}
				var env struct {
					Data struct {
						AccountID           int64 `json:"account_id"`
						UserID              int64 `json:"user_id"`
						IsServiceToken      bool  `json:"is_service_token"`
						AccountAccessDenied bool  `json:"account_access_denied"`
					} `json:"data"`
				}
				json.Unmarshal(body, &env)
				d := env.Data
				if d.AccountID != int64(acct) || !d.AccountAccessDenied || d.IsServiceToken != tc.service || (!tc.service && d.UserID != int64(a.User.ID)) {
					t.Errorf("got data %+v, want account %d, user, is_service_token %v, account_access_denied", d, acct, tc.service)
				}
			})
		}

		t.Run("another account is not fenced", func(t *testing.T) {
			r := e.from("203.0.113.5", "GET", fmt.Sprintf("/api/v3/accounts/%d/", b.Account.ID), bearer(b.Token), "")
			if r.Code != http.StatusOK {
				t.Errorf("got %d, want 200", r.Code)
			}
		})

		// A client that writes the allowed address into X-Forwarded-For itself: the proxy
		// appends the real one, and that is the one that counts.
		t.Run("a forged X-Forwarded-For does not pass the allow-list", func(t *testing.T) {
			for _, xff := range []string{"10.1.2.3, 203.0.113.5", "10.1.2.3,203.0.113.5, 127.0.0.1"} {
				if code, _ := from(xff, a.Token); code != http.StatusForbidden {
					t.Errorf("X-Forwarded-For %q: got %d, want 403", xff, code)
				}
			}
			if code, _ := from("203.0.113.5, 10.1.2.3", a.Token); code != http.StatusOK {
				t.Errorf("from 10.1.2.3 through the proxy: got %d, want 200", code)
			}
		})

		// IP restrictions are part of authentication, for every way in: HTTP Basic creating
		// a first PAT, and signing in to the console.
		t.Run("HTTP Basic from a blocked address", func(t *testing.T) {
			path := fmt.Sprintf("/api/v3/accounts/%d/users/%d/account-apikeys/", acct, a.User.ID)
			r := e.from("203.0.113.5", "POST", path, basicAuth("owner@example.com", "a long enough password"), `{"name": "from afar"}`)
			if r.Code != http.StatusForbidden {
				t.Fatalf("got %d: %s, want 403", r.Code, r.Raw)
			}
			if !strings.Contains(r.Body.Status.UserMessage, "IP restrictions") {
				t.Errorf("got %q, want the IP restrictions named", r.Body.Status.UserMessage)
			}
			if r := e.from("10.1.2.3", "POST", path, basicAuth("owner@example.com", "a long enough password"), `{"name": "office"}`); r.Code != http.StatusCreated {
				t.Errorf("from the office: got %d: %s, want 201", r.Code, r.Raw)
			}
		})
		t.Run("console sign-in from a blocked address", func(t *testing.T) {
			ctx := context.Background()
			if _, _, err := e.svc.SignIn(ctx, "owner@example.com", "a long enough password", "203.0.113.5", "test"); tokend.ErrorCode(err) != tokend.EForbidden {
				t.Errorf("got %v, want the IP restrictions' refusal", err)
			}
			if _, _, err := e.svc.SignIn(ctx, "owner@example.com", "a long enough password", "10.1.2.3", "test"); err != nil {
				t.Errorf("from the office: got %v, want a session", err)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for body, field := range map[string]string{
				`{"name": "x", "type": 1, "cidrs": [{"cidr": "300.1.1.1/8"}]}`: "cidr",
				`{"name": "x", "type": 3, "cidrs": [{"cidr": "10.0.0.0/8"}]}`:  "type",
				`{"name": "", "type": 1, "cidrs": [{"cidr": "10.0.0.0/8"}]}`:   "name",
				`{"name": "x", "type": 1, "cidrs": []}`:                        "cidrs",
			} {
				if r := e.do("POST", rules, bearer(a.Token), body); r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.DeveloperMessage, field) {
					t.Errorf("%s: got %d %q, want 400 naming %s", body, r.Code, r.Body.Status.DeveloperMessage, field)
				}
			}
		})

		t.Run("switching off lets everyone in again at once", func(t *testing.T) {
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": false}`); r.Code != http.StatusOK {
				t.Fatalf("disable: got %d", r.Code)
			}
			if code, _ := from("203.0.113.5", a.Token); code != http.StatusOK {
				t.Errorf("after switching off: got %d, want 200", code)
			}
		})

		t.Run("delete", func(t *testing.T) {
			if code, _ := e.doNoBody("DELETE", fmt.Sprintf("%s%d", rules, here.ID), bearer(a.Token)); code != http.StatusNoContent {
				t.Fatalf("delete: got %d, want 204", code)
			}
			if r := e.do("GET", fmt.Sprintf("%s%d", rules, here.ID), bearer(a.Token), ""); r.Code != http.StatusNotFound {
				t.Errorf("deleted rule: got %d, want 404", r.Code)
			}
		})
	})
}

// TestIPRulesAsTerraformUsesThem: an IPv6 range comes back in cidr as sent (and in
// cidr_ipv6), a rule set is destroyed by parallel deletes while it is on, lockout is checked
// when the set is switched on, and rules are an Enterprise+ feature.
func TestIPRulesAsTerraformUsesThem(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccountOn(perm.PlanEnterprisePlus, "Fenced", "owner@example.com")
		acct := a.Account.ID
		rules := fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", acct)
		set := fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions-set/", acct)
		type cidrBody struct {
			CIDR     string  `json:"cidr"`
			CIDRIPv6 *string `json:"cidr_ipv6"`
		}
		type ruleBody struct {
			ID    int64      `json:"id"`
			CIDRs []cidrBody `json:"cidrs"`
		}

		t.Run("an IPv6 range is echoed in cidr", func(t *testing.T) {
			for _, tc := range []struct{ sent, want string }{
				{"2001:db8::/32", "2001:db8::/32"},
				{"2001:db8:0:0::1/128", "2001:db8::1/128"},
			} {
				r := e.do("POST", rules, bearer(a.Token), fmt.Sprintf(`{"name": "v6", "type": 2, "rule_set_enabled": false, "cidrs": [{"cidr": %q}]}`, tc.sent))
				if r.Code != http.StatusOK {
					t.Fatalf("create %s: got %d: %s", tc.sent, r.Code, r.Raw)
				}
				var created, read ruleBody
				r.data(t, &created)
				e.do("GET", fmt.Sprintf("%s%d", rules, created.ID), bearer(a.Token), "").data(t, &read)
				for name, got := range map[string]ruleBody{"create": created, "read": read} {
					if len(got.CIDRs) != 1 || got.CIDRs[0].CIDR != tc.want || got.CIDRs[0].CIDRIPv6 == nil || *got.CIDRs[0].CIDRIPv6 != tc.want {
						t.Errorf("%s of %s: got cidrs %+v, want cidr and cidr_ipv6 %q", name, tc.sent, got.CIDRs, tc.want)
					}
				}
				if code, _ := e.doNoBody("DELETE", fmt.Sprintf("%s%d", rules, created.ID), bearer(a.Token)); code != http.StatusNoContent {
					t.Fatalf("delete: got %d", code)
				}
			}
		})

		t.Run("lockout is checked when the set is switched on", func(t *testing.T) {
			r := e.do("POST", rules, bearer(a.Token), `{"name": "elsewhere", "type": 1, "cidrs": [{"cidr": "10.0.0.0/8"}]}`)
			if r.Code != http.StatusOK {
				t.Fatalf("create: got %d: %s", r.Code, r.Raw)
			}
			var elsewhere ruleBody
			r.data(t, &elsewhere)
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": true}`); r.Code != http.StatusBadRequest ||
				!strings.Contains(r.Body.Status.UserMessage, "block your own address (127.0.0.1)") {
				t.Errorf("switch on with 127.0.0.1 outside every allow rule: got %d %q, want 400 naming the address", r.Code, r.Body.Status.UserMessage)
			}
			if code, _ := e.doNoBody("DELETE", fmt.Sprintf("%s%d", rules, elsewhere.ID), bearer(a.Token)); code != http.StatusNoContent {
				t.Fatalf("delete: got %d", code)
			}
		})

		t.Run("a rule set that is on is destroyed by parallel deletes", func(t *testing.T) {
			// The caller is inside "loopback" only. Terraform sends every delete at once, so each
			// passes the address check before any commits; the service then sees them in any
			// order, and the order in which "loopback" goes before "office" (which once tripped
			// a lockout check) must succeed like any other.
			bodies := []string{
				`{"name": "loopback", "type": 1, "cidrs": [{"cidr": "127.0.0.0/8"}, {"cidr": "::1"}]}`,
				`{"name": "office", "type": 1, "cidrs": [{"cidr": "10.0.0.0/8"}]}`,
				`{"name": "vpn", "type": 1, "cidrs": [{"cidr": "172.16.0.0/12"}, {"cidr": "2001:db8::/32"}]}`,
				`{"name": "guest wifi", "type": 2, "cidrs": [{"cidr": "10.9.0.0/16"}]}`,
				`{"name": "old office", "type": 2, "cidrs": [{"cidr": "10.8.0.0/16"}]}`,
			}
			ids := make([]int64, len(bodies))
			for i, body := range bodies {
				r := e.do("POST", rules, bearer(a.Token), body)
				if r.Code != http.StatusOK {
					t.Fatalf("create %d: got %d: %s", i, r.Code, r.Raw)
				}
				var rb ruleBody
				r.data(t, &rb)
				ids[i] = rb.ID
			}
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": true}`); r.Code != http.StatusOK {
				t.Fatalf("switch on: got %d: %s", r.Code, r.Raw)
			}
			ctx := context.Background()
			p, err := e.svc.Authenticate(ctx, a.Token, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.svc.CheckIP(ctx, p, "127.0.0.1"); err != nil {
				t.Fatalf("before the destroy, the caller is let in: %v", err)
			}
			if err := e.svc.DeleteIPRule(ctx, p, acct, tokend.IPRuleID(ids[0])); err != nil {
				t.Errorf("delete %q while %q is left: got %v, want it deleted", "loopback", "office", err)
			}
			errs := make([]error, len(ids)-1)
			var wg sync.WaitGroup
			for i, id := range ids[1:] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = e.svc.DeleteIPRule(ctx, p, acct, tokend.IPRuleID(id))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("delete of rule %d: got %v, want it deleted", ids[i+1], err)
				}
			}
			var left []ruleBody
			e.do("GET", rules, bearer(a.Token), "").data(t, &left)
			if len(left) != 0 {
				t.Errorf("after destroying every rule: got %d rules left, want 0", len(left))
			}
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": false}`); r.Code != http.StatusOK {
				t.Fatalf("switch off: got %d: %s", r.Code, r.Raw)
			}
		})

		t.Run("parallel deletes over HTTP", func(t *testing.T) {
			const n = 8
			ids := make([]int64, n)
			for i := range ids {
				r := e.do("POST", rules, bearer(a.Token), fmt.Sprintf(`{"name": "r%d", "type": 1, "cidrs": [{"cidr": "127.0.0.0/%d"}, {"cidr": "10.%d.0.0/16"}]}`, i, 8+i, i))
				if r.Code != http.StatusOK {
					t.Fatalf("create %d: got %d: %s", i, r.Code, r.Raw)
				}
				var rb ruleBody
				r.data(t, &rb)
				ids[i] = rb.ID
			}
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": true}`); r.Code != http.StatusOK {
				t.Fatalf("switch on: got %d: %s", r.Code, r.Raw)
			}
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = e.status("DELETE", fmt.Sprintf("%s%d", rules, id), bearer(a.Token), "")
				}()
			}
			wg.Wait()
			for i, code := range codes {
				if code != http.StatusNoContent {
					t.Errorf("delete of rule %d: got %d, want 204", ids[i], code)
				}
			}
			var left []ruleBody
			e.do("GET", rules, bearer(a.Token), "").data(t, &left)
			if len(left) != 0 {
				t.Errorf("after destroying every rule: got %d rules left, want 0", len(left))
			}
			if r := e.do("POST", set, bearer(a.Token), `{"enabled": false}`); r.Code != http.StatusOK {
				t.Fatalf("switch off: got %d: %s", r.Code, r.Raw)
			}
		})

		t.Run("IP restrictions are an Enterprise+ feature", func(t *testing.T) {
			for _, plan := range []perm.Plan{perm.PlanEnterprise, perm.PlanTeam, perm.PlanStarter} {
				o := e.initAccountOn(plan, "Plan "+string(plan), string(plan)+"@example.com")
				base := fmt.Sprintf("/api/v3/accounts/%d/", o.Account.ID)
				r := e.do("POST", base+"ip-restrictions/", bearer(o.Token), `{"name": "x", "type": 1, "cidrs": [{"cidr": "127.0.0.1"}]}`)
				if r.Code != http.StatusForbidden || !strings.Contains(r.Body.Status.UserMessage, "Enterprise+") {
					t.Errorf("%s: create a rule: got %d %q, want 403 naming Enterprise+", plan, r.Code, r.Body.Status.UserMessage)
				}
				if r := e.do("POST", base+"ip-restrictions-set/", bearer(o.Token), `{"enabled": true}`); r.Code != http.StatusForbidden {
					t.Errorf("%s: switch on: got %d, want 403", plan, r.Code)
				}
				if r := e.do("POST", base+"ip-restrictions-set/", bearer(o.Token), `{"enabled": false}`); r.Code != http.StatusOK {
					t.Errorf("%s: switch off: got %d, want 200", plan, r.Code)
				}
				if r := e.do("GET", base+"ip-restrictions/", bearer(o.Token), ""); r.Code != http.StatusOK {
					t.Errorf("%s: list: got %d, want 200", plan, r.Code)
				}
			}
		})
	})
}

// Clients are matched by their IPv4 address, so an IPv4-mapped IPv6 CIDR would be stored and
// never match: it is refused, naming the IPv4 form.
func TestIPv4MappedCIDRsAreRefused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccountOn(perm.PlanEnterprisePlus, "Fenced", "owner@example.com")
		rules := fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", a.Account.ID)
		tests := []struct {
			cidr, field, mention string
		}{
			{"::ffff:10.0.0.0/120", "cidrs[0].cidr", "10.0.0.0/24"},
			{"::ffff:10.1.2.3", "cidrs[0].cidr", "10.1.2.3/32"},
			{"::ffff:0:0/80", "cidrs[0].cidr", "IPv4 CIDRs"},
		}
		for _, tt := range tests {
			t.Run(tt.cidr, func(t *testing.T) {
				r := e.do("POST", rules, bearer(a.Token), fmt.Sprintf(`{"name": "mapped", "type": 2, "cidrs": [{"cidr": %q}]}`, tt.cidr))
				if r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
					t.Fatalf("got %d %q, want 400 naming %s: %s", r.Code, r.Body.Status.DeveloperMessage, tt.field, r.Raw)
				}
				if !strings.Contains(r.Body.Status.UserMessage, tt.mention) {
					t.Errorf("got message %q, want it to mention %s", r.Body.Status.UserMessage, tt.mention)
				}
			})
		}
		stored, err := e.store.ListIPRules(context.Background(), a.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 0 {
			t.Errorf("got %d rules stored, want 0", len(stored))
		}
	})
}
