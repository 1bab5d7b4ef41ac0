package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

var tokenRE = regexp.MustCompile(`id="new-token"[^>]*value="(dbt[uc]_[A-Za-z0-9]+)"`)

func TestPagesRender(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)

	// A PAT and a service token, so that lists, detail pages and charts have rows.
	form := b.get("/settings/tokens/personal/new")
	created := b.postShown("/settings/tokens/personal/new", url.Values{"csrf": {csrf(t, form.body)}, "name": {"laptop"}, "expires_in": {"30"}})
	if created.status != 200 || !tokenRE.MatchString(created.body) {
		t.Fatalf("create PAT: got %d, want 200 with the token\n%s", created.status, created.body)
	}
	st := b.postShown("/settings/service-tokens/new", url.Values{"csrf": {csrf(t, form.body)}, "name": {"airflow"},
		"rows": {"1"}, "set_0": {"job_admin"}, "scope_0": {"all"}, "op": {"create"}})
	if st.status != 200 || !tokenRE.MatchString(st.body) {
		t.Fatalf("create service token: got %d, want 200 with the token\n%s", st.status, st.body)
	}

	tests := []struct {
		path string
		want string
	}{
		{"/settings/tokens/personal", "laptop"},
		{"/settings/tokens/personal/new", "Create personal access token"},
		{"/settings/service-tokens", "airflow"},
		{"/settings/service-tokens/new", "Permission set 1"},
		{"/settings/users", "paul@example.com"},
		{"/settings/groups", "Owner"},
		{"/settings/projects", "Projects"},
		{"/settings/audit-log", "account_scoped_pat.created"},
		{"/settings/tokens/inventory", "laptop"},
		{"/settings/tokens/inventory?kind=service", "airflow"},
		{"/profile/api-key", "User API keys are deprecated"},
		{"/profile/api-key/rotate", "Rotate API key"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := b.get(tt.path)
			if r.status != 200 || !strings.Contains(r.body, tt.want) {
				t.Errorf("got %d, want 200 with %q\n%s", r.status, tt.want, r.body)
			}
		})
	}
	// Detail, delete and rotate pages of the first tokens.
	for _, path := range []string{"/settings/tokens/personal/%d", "/settings/tokens/personal/%d/delete",
		"/settings/tokens/personal/%d/rotate"} {
		if r := b.get(fmt.Sprintf(path, tokenID(t, e, tokend.KindPAT))); r.status != 200 {
			t.Errorf("%s: got %d, want 200\n%s", path, r.status, r.body)
		}
	}
	for _, tt := range []struct{ path, want string }{
		{"/settings/service-tokens/%d", "Job Admin"},
		{"/settings/service-tokens/%d/delete", "Confirm delete"},
	} {
		r := b.get(fmt.Sprintf(tt.path, tokenID(t, e, tokend.KindService)))
		if r.status != 200 || !strings.Contains(r.body, tt.want) {
			t.Errorf("%s: got %d, want 200 with %q\n%s", tt.path, r.status, tt.want, r.body)
		}
	}
}

// tokenID returns the id of the account's newest active token of kind.
func tokenID(t *testing.T, e *env, kind tokend.TokenKind) tokend.TokenID {
	t.Helper()
	ts, _, err := e.svc.Store().ListTokens(context.Background(), tokend.TokenFilter{Kind: kind, AccountID: e.account.ID, State: tokend.StateActive})
	if err != nil || len(ts) == 0 {
		t.Fatalf("list %s tokens: %v, %d", kind, err, len(ts))
	}
	return ts[len(ts)-1].ID
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	token := csrf(t, b.get("/settings/tokens/personal/new").body)
	other := e.browser(t)
	other.mustSignIn("paul@example.com", ownerPassword)
	otherToken := csrf(t, other.get("/settings/tokens/personal").body)

	tests := []struct {
		name    string
		csrf    string
		headers map[string]string
		want    int
	}{
		{"no token", "", nil, http.StatusForbidden},
		{"wrong token", "AAAA" + token[4:], nil, http.StatusForbidden},
		{"another session's token", otherToken, nil, http.StatusForbidden},
		{"cross-site origin", token, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site referer, no origin", token, map[string]string{"Origin": "", "Referer": "https://evil.example/x"}, http.StatusForbidden},
		{"neither origin nor referer", token, map[string]string{"Origin": ""}, http.StatusForbidden},
		{"null origin", token, map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"same-site referer, no origin", token, map[string]string{"Origin": "", "Referer": b.base + "/settings/tokens/personal/new"}, http.StatusSeeOther},
		{"valid", token, nil, http.StatusSeeOther},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"name": {fmt.Sprintf("token %d", i)}}
			if tt.csrf != "" {
				form.Set("csrf", tt.csrf)
			}
			r := b.do("POST", "/settings/tokens/personal/new", form, tt.headers)
			if r.status != tt.want {
				t.Fatalf("got %d, want %d\n%s", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusForbidden && tokenRE.MatchString(r.body) {
				t.Errorf("a refused form created a token")
			}
		})
	}
	ts, _, _ := e.svc.Store().ListTokens(context.Background(), tokend.TokenFilter{Kind: tokend.KindPAT, UserID: e.owner.ID})
	// Init's owner PAT and the two accepted forms.
	if len(ts) != 3 {
		t.Errorf("got %d PATs, want 3 (refused forms must create nothing)", len(ts))
	}

	t.Run("sign-in form without its cookie", func(t *testing.T) {
		fresh := e.browser(t)
		page := fresh.get("/signin")
		fresh.client.Jar, _ = newJar()
		r := fresh.post("/signin", url.Values{"csrf": {csrf(t, page.body)}, "email": {"paul@example.com"}, "password": {ownerPassword}})
		if r.status != http.StatusForbidden {
			t.Errorf("got %d, want 403 (login CSRF)", r.status)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []time.Duration // waits between requests
		live  bool
	}{
		{"active within the idle timeout", []time.Duration{11 * time.Hour}, true},
		{"idle past 12 hours", []time.Duration{12*time.Hour + time.Second}, false},
		{"kept busy for six days", repeat(11*time.Hour, 13), true},
		{"kept busy past seven days", repeat(11*time.Hour, 16), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser(t)
			b.mustSignIn("paul@example.com", ownerPassword)
			var r response
			for _, d := range tt.steps {
				e.clock.advance(d)
				r = b.get("/settings/tokens/personal")
				if r.status != 200 {
					break
				}
			}
			if tt.live && r.status != 200 {
				t.Errorf("got %d (%s), want 200", r.status, r.header.Get("Location"))
			}
			if !tt.live && (r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin")) {
				t.Errorf("got %d to %q, want a redirect to the sign-in form", r.status, r.header.Get("Location"))
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestSignOutEndsSessionEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	u, _ := url.Parse(b.base)
	stolen := b.client.Jar.Cookies(u)
	page := b.get("/settings/tokens/personal")
	if r := b.post("/signout", url.Values{"csrf": {csrf(t, page.body)}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out: got %d, want 303", r.status)
	}
	// A copy of the cookie taken before sign-out is worth nothing after it.
	thief := e.browser(t)
	thief.client.Jar.SetCookies(u, stolen)
	if r := thief.get("/settings/tokens/personal"); r.status != http.StatusSeeOther {
		t.Errorf("old session cookie after sign-out: got %d, want 303 to the sign-in form", r.status)
	}
}

func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("per address and e-mail", func(t *testing.T) {
		e := newEnv(t)
		guesser := e.browser(t)
		guesser.ip = "198.51.100.7"
		for i := range 5 {
			if r := guesser.signIn("paul@example.com", "wrong password"); r.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: got %d, want 401", i+1, r.status)
			}
		}
		r := guesser.signIn("paul@example.com", ownerPassword)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("right password after 5 failures: got %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
		}
		if !strings.Contains(r.body, "Too many failed sign-ins") {
			t.Errorf("429 page does not say why:\n%s", r.body)
		}
		e.clock.advance(31 * time.Second)
		if r := guesser.signIn("paul@example.com", ownerPassword); r.status != http.StatusSeeOther {
			t.Errorf("after the refill: got %d, want 303", r.status)
		}
	})
	// Wrong passwords for someone's e-mail, from anywhere, never lock that person out of
	// signing in from their own address.
	t.Run("the real user is not locked out", func(t *testing.T) {
		e := newEnv(t)
		for i := range 10 {
			b := e.browser(t)
			b.ip = fmt.Sprintf("198.51.100.%d", i%3+1)
			b.signIn("paul@example.com", "wrong password")
		}
		paul := e.browser(t)
		paul.ip = "192.0.2.10"
		if r := paul.signIn("paul@example.com", ownerPassword); r.status != http.StatusSeeOther {
			t.Errorf("the real user after 10 wrong passwords elsewhere: got %d, want 303", r.status)
		}
	})
	t.Run("per address", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser(t)
		b.ip = "203.0.113.5"
		for i := range 20 {
			if r := b.signIn(fmt.Sprintf("nobody%d@example.com", i), "wrong password"); r.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: got %d, want 401", i+1, r.status)
			}
		}
		if r := b.signIn("paul@example.com", ownerPassword); r.status != http.StatusTooManyRequests {
			t.Errorf("from the same address: got %d, want 429", r.status)
		}
		other := e.browser(t)
		other.ip = "203.0.113.6"
		if r := other.signIn("paul@example.com", ownerPassword); r.status != http.StatusSeeOther {
			t.Errorf("from another address: got %d, want 303", r.status)
		}
	})
	t.Run("failures are audited", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser(t)
		b.signIn("paul@example.com", "wrong password")
		b.mustSignIn("paul@example.com", ownerPassword)
		for _, action := range []string{"console.sign_in_refused", "console.sign_in"} {
			es, _, err := e.svc.Store().ListAudit(context.Background(), tokend.AuditFilter{AccountID: e.account.ID, Action: action})
			if err != nil || len(es) != 1 {
				t.Errorf("audit %s: got %d events (%v), want 1", action, len(es), err)
			}
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	form := b.get("/settings/tokens/personal/new")
	created := b.post("/settings/tokens/personal/new", url.Values{"csrf": {csrf(t, form.body)}, "name": {"shown once"}})

	want := map[string]string{
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
		"X-Content-Type-Options": "nosniff",
	}
	tests := []struct {
		name    string
		r       response
		noStore bool
	}{
		{"sign-in page", e.browser(t).get("/signin"), true},
		{"a list", b.get("/settings/tokens/personal"), true},
		{"a token shown once", created, true},
		{"not found", b.get("/no/such/page"), true},
		{"static file", b.get("/static/console.css"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range want {
				if got := tt.r.header.Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			csp := tt.r.header.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q allows inline code", csp)
			}
			if got := tt.r.header.Get("Cache-Control"); (got == "no-store") != tt.noStore {
				t.Errorf("Cache-Control: got %q, want no-store: %v", got, tt.noStore)
			}
			if strings.Contains(tt.r.body, "<script>") || strings.Contains(tt.r.body, " style=") {
				t.Errorf("page has inline script or style, which the CSP blocks")
			}
		})
	}
	t.Run("session cookie", func(t *testing.T) {
		fresh := e.browser(t)
		r := fresh.signIn("paul@example.com", ownerPassword)
		var c *http.Cookie
		for _, ck := range (&http.Response{Header: r.header}).Cookies() {
			if ck.Name == "tokend_session" {
				c = ck
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) != 43 {
			t.Fatalf("got session cookie %+v, want HttpOnly, SameSite=Lax, Path=/ and a 256-bit id", c)
		}
		if strings.Contains(r.header.Get("Location"), c.Value) {
			t.Errorf("the session id is in a URL")
		}
	})
	t.Run("over TLS", func(t *testing.T) {
		fresh := e.browser(t)
		page := fresh.do("GET", "/signin", nil, map[string]string{"X-Forwarded-Proto": "https"})
		if !strings.Contains(page.header.Get("Set-Cookie"), "__Host-tokend_signin") || !strings.Contains(page.header.Get("Set-Cookie"), "Secure") {
			t.Errorf("sign-in cookie over TLS: got %q, want a Secure __Host- cookie", page.header.Get("Set-Cookie"))
		}
	})
}

func TestForbiddenPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addUser(t, "reader@example.com", perm.LicenseReadOnly)
	b := e.browser(t)
	b.mustSignIn("reader@example.com", ownerPassword)

	r := b.get("/settings/service-tokens")
	if r.status != http.StatusForbidden {
		t.Fatalf("got %d, want 403\n%s", r.status, r.body)
	}
	// Plain words: what the user may not do, where, and who can change that; no ids.
	for _, want := range []string{"You do not have access to this", "You cannot see service tokens in " + e.account.Name,
		"An account admin can add you to a group with one of these permission sets: Account Admin"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("403 page lacks %q:\n%s", want, r.body)
		}
	}
	for _, leak := range []string{"service_tokens", fmt.Sprintf("account %d", e.account.ID), "user "} {
		if strings.Contains(r.body, leak) {
			t.Errorf("403 page says %q:\n%s", leak, r.body)
		}
	}
	// The sidebar does not offer what the user may not open.
	page := b.get("/settings/tokens/personal")
	if strings.Contains(page.body, `href="/settings/service-tokens"`) {
		t.Errorf("the sidebar offers service tokens to a user who may not read them")
	}
	// A Read-Only license may create a PAT (dbt opened them to every license); the token stays
	// read-only.
	form := b.get("/settings/tokens/personal/new")
	created := b.postShown("/settings/tokens/personal/new", url.Values{"csrf": {csrf(t, form.body)}, "name": {"reader's"}})
	if created.status != http.StatusOK || !strings.Contains(created.body, "dbtu_") {
		t.Errorf("PAT by a Read-Only user: got %d, want the new token shown\n%s", created.status, created.body)
	}
	if r := b.get("/settings/tokens/personal/999999/delete"); r.status != http.StatusNotFound {
		t.Errorf("someone else's token: got %d, want 404", r.status)
	}
}

func TestAccountSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res, err := e.svc.Init(context.Background(), tokend.InitParams{AccountName: "Guild Navigator", Plan: perm.PlanTeam,
		Email: "paul@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	page := b.get("/settings/service-tokens/new")
	if !strings.Contains(page.body, "Spice Harvesting") || !strings.Contains(page.body, "Guild Navigator") {
		t.Fatalf("the switcher does not list both accounts:\n%s", page.body)
	}
	r := b.post("/account", url.Values{"csrf": {csrf(t, page.body)}, "account_id": {fmt.Sprint(res.Account.ID)},
		"next": {"/settings/service-tokens/new"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("switch: got %d, want 303\n%s", r.status, r.body)
	}
	page = b.get("/settings/service-tokens/new")
	// On the Team plan account_admin is offered as "Owner", and job_viewer not at all.
	if !strings.Contains(page.body, `<option value="account_admin">Owner</option>`) || strings.Contains(page.body, "job_viewer") {
		t.Errorf("after switching to the Team account, the form does not offer the Team plan's sets:\n%s", page.body)
	}
	if r := b.post("/account", url.Values{"csrf": {csrf(t, page.body)}, "account_id": {"999999"}}); r.status != http.StatusNotFound {
		t.Errorf("switch to an account of someone else: got %d, want 404", r.status)
	}
}

func TestIPRestrictionsApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	const office = "10.1.2.3"
	if _, err := e.svc.CreateIPRule(ctx, p, e.account.ID, tokend.IPRuleInput{Name: "office", Type: tokend.IPAllow,
		CIDRs: []string{"10.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetIPRestrictions(ctx, p, e.account.ID, true, office); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want int
	}{
		{office, http.StatusOK},
		{"203.0.113.7", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			// Signing in is itself refused from a blocked address.
			b := e.browser(t)
			b.ip = tt.ip
			r := b.signIn("paul@example.com", ownerPassword)
			wantSignIn := http.StatusSeeOther
			if tt.want == http.StatusForbidden {
				wantSignIn = http.StatusForbidden
			}
			if r.status != wantSignIn {
				t.Fatalf("sign in: got %d, want %d\n%s", r.status, wantSignIn, r.body)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(r.body, "IP restrictions") {
				t.Errorf("the refusal of the sign-in does not say why:\n%s", r.body)
			}
			// A session started at the office and carried to the address.
			b = e.browser(t)
			b.ip = office
			b.mustSignIn("paul@example.com", ownerPassword)
			b.ip = tt.ip
			r = b.get("/settings/tokens/personal")
			if r.status != tt.want {
				t.Fatalf("got %d, want %d\n%s", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusForbidden {
				if !strings.Contains(r.body, "IP restrictions") {
					t.Errorf("the refusal does not say why:\n%s", r.body)
				}
				// Signing out still works from a blocked address.
				if out := b.post("/signout", url.Values{"csrf": {csrf(t, r.body)}}); out.status != http.StatusSeeOther {
					t.Errorf("sign out from a blocked address: got %d, want 303", out.status)
				}
			}
		})
	}
}

// A person invited to an account joins from the Invitations page, even with no account yet.
func TestAcceptInvitation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	caladan, err := e.svc.Init(ctx, tokend.InitParams{AccountName: "Caladan", Plan: perm.PlanEnterprise,
		Email: "leto@example.com", Password: ownerPassword})
	if err != nil {
		t.Fatal(err)
	}
	leto, err := e.svc.SessionPrincipal(ctx, caladan.User.ID, caladan.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Jessica has a user, but no account any more: Caladan removed her.
	m, _, err := e.svc.AddUser(ctx, leto, caladan.Account.ID, tokend.AddUserInput{Email: "jessica@example.com", Password: ownerPassword})
	if err != nil {
		t.Fatal(err)
	}
	removed := tokend.StateDeleted
	if _, err := e.svc.UpdateLicense(ctx, leto, caladan.Account.ID, m.Membership.ID, nil, &removed); err != nil {
		t.Fatal(err)
	}
	paul, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, inv, err := e.svc.AddUser(ctx, paul, e.account.ID, tokend.AddUserInput{Email: "jessica@example.com", License: perm.LicenseAnalyst})
	if err != nil || got != nil || inv == nil {
		t.Fatalf("add Jessica to Spice Harvesting: got member %v, invitation %v, err %v; want an invitation", got, inv, err)
	}

	b := e.browser(t)
	b.mustSignIn("jessica@example.com", ownerPassword)
	if r := b.get("/"); r.status != http.StatusForbidden || !strings.Contains(r.body, `href="/invitations"`) {
		t.Fatalf("home with no account: got %d, want 403 pointing at the invitations", r.status)
	}
	page := b.get("/invitations")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Spice Harvesting") || !strings.Contains(page.body, "analyst") {
		t.Fatalf("invitations: got %d, want the invitation to Spice Harvesting\n%s", page.status, page.body)
	}
	path := fmt.Sprintf("/invitations/%d/accept", inv.ID)
	if r := b.post(path, url.Values{"csrf": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("accept with a forged CSRF token: got %d, want 403", r.status)
	}
	if r := b.post(path, url.Values{"csrf": {csrf(t, page.body)}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: got %d, want 303\n%s", r.status, r.body)
	}
	if r := b.get("/settings/tokens/personal"); r.status != http.StatusOK || !strings.Contains(r.body, "Spice Harvesting") {
		t.Errorf("tokens page after accepting: got %d, want 200 in Spice Harvesting", r.status)
	}
	if r := b.post(path, url.Values{"csrf": {csrf(t, page.body)}}); r.status != http.StatusBadRequest {
		t.Errorf("accept again: got %d, want 400", r.status)
	}

	other := e.browser(t)
	other.mustSignIn("leto@example.com", ownerPassword)
	if r := other.post(path, url.Values{"csrf": {csrf(t, other.get("/invitations").body)}}); r.status != http.StatusNotFound {
		t.Errorf("someone else accepts it: got %d, want 404", r.status)
	}
}

// A new token's secret is shown once, on the page the POST redirects to: a reload shows it no
// more and mints nothing, and another session cannot open the page.
func TestSecretShownOnce(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	other := e.browser(t)
	other.mustSignIn("paul@example.com", ownerPassword)

	form := b.get("/settings/tokens/personal/new")
	posted := b.post("/settings/tokens/personal/new", url.Values{"csrf": {csrf(t, form.body)}, "name": {"once"}})
	loc := posted.header.Get("Location")
	if posted.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings/shown-once?") || tokenRE.MatchString(posted.body) {
		t.Fatalf("create PAT: got %d to %q, want 303 to the shown-once page and no secret in the answer", posted.status, loc)
	}
	tests := []struct {
		name       string
		b          *browser
		wantSecret bool
	}{
		{"another session", other, false},
		{"first load", b, true},
		{"reload", b, false},
		{"reload again", b, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.b.get(loc)
			if r.status != http.StatusOK {
				t.Fatalf("got %d, want 200\n%s", r.status, r.body)
			}
			if got := tokenRE.MatchString(r.body); got != tt.wantSecret {
				t.Errorf("secret shown: got %v, want %v\n%s", got, tt.wantSecret, r.body)
			}
			if !tt.wantSecret && !strings.Contains(r.body, "shown once") {
				t.Errorf("the page does not say the secret was shown once:\n%s", r.body)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
		})
	}
	list := b.get("/settings/tokens/personal")
	if n := strings.Count(list.body, ">once</a>"); n != 1 {
		t.Errorf("tokens named once: got %d, want 1", n)
	}
}

// A page past the end of a list says so and leads back; it is not "No tokens yet".
func TestPastTheLastPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	tests := []struct {
		path, empty string
	}{
		{"/settings/tokens/personal?offset=500", "No personal access tokens yet"},
		{"/settings/tokens/inventory?kind=pat&offset=500", "No active tokens of this kind"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := b.get(tt.path)
			if r.status != http.StatusOK {
				t.Fatalf("got %d, want 200\n%s", r.status, r.body)
			}
			if strings.Contains(r.body, tt.empty) || !strings.Contains(r.body, "past the end of the list") || !strings.Contains(r.body, "offset=0") {
				t.Errorf("got a page without the past-the-end note and a link to the last page:\n%s", r.body)
			}
		})
	}
}
