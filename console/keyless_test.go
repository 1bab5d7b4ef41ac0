package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func TestTrustPolicyPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	form := b.get("/settings/trust-policies/new")
	if form.status != http.StatusOK || !strings.Contains(form.body, "Permission set 1") {
		t.Fatalf("new policy form: got %d\n%s", form.status, form.body)
	}
	tok := csrf(t, form.body)
	valid := url.Values{"csrf": {tok}, "name": {"Deploy"}, "issuer": {"https://token.actions.githubusercontent.com"},
		"audience": {"tokend"}, "claims": {"repository = acme/widgets\nref = refs/heads/*"}, "ttl_minutes": {"15"},
		"rows": {"1"}, "set_0": {"job_admin"}, "scope_0": {"all"}, "op": {"create"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range valid {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"condition without =", with("claims", "repository acme/widgets"), "claim = value"},
		{"only a wildcard", with("claims", "repository = *"), "not only"},
		{"plain http issuer", with("issuer", "http://ci.example.com"), "https URL"},
		{"no permission set", with("set_0", ""), "at least one permission set"},
		{"a set the user does not know", with("set_0", "superuser"), "superuser"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/settings/trust-policies/new", tt.form)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.want) {
				t.Errorf("got %d, want 400 saying %q\n%s", r.status, tt.want, r.body)
			}
		})
	}
	r := b.post("/settings/trust-policies/new", valid)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: got %d, want 303\n%s", r.status, r.body)
	}
	list := b.get("/settings/trust-policies")
	for _, want := range []string{"Deploy", "token.actions.githubusercontent.com", "acme/widgets", "refs/heads/*", "Job Admin", "15 min"} {
		if !strings.Contains(list.body, want) {
			t.Errorf("policy list lacks %q", want)
		}
	}
	p, err := e.svc.SessionPrincipal(context.Background(), e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := e.svc.ListTrustPolicies(context.Background(), p, e.account.ID, tokend.StateActive, tokend.Page{})
	if err != nil || len(ps) != 1 {
		t.Fatalf("policies: got %d (%v), want 1", len(ps), err)
	}
	// Edit: the form shows the terms; saving other ones replaces them.
	edit := "/settings/trust-policies/" + itoa(int64(ps[0].ID)) + "/edit"
	page := b.get(edit)
	if page.status != http.StatusOK || !strings.Contains(page.body, "repository = acme/widgets") || !strings.Contains(page.body, `value="job_admin" selected`) {
		t.Fatalf("edit form: got %d, want the policy's conditions and set\n%s", page.status, page.body)
	}
	if r := b.post(edit, with("claims", "repository = acme/widgets\nref = refs/tags/*")); r.status != http.StatusSeeOther {
		t.Fatalf("save: got %d\n%s", r.status, r.body)
	}
	saved, err := e.svc.TrustPolicy(context.Background(), p, e.account.ID, ps[0].ID)
	if err != nil || saved.Claims["ref"] != "refs/tags/*" || saved.TTL != 15*time.Minute || len(saved.Grants) != 1 {
		t.Errorf("after saving: got %+v (%v), want ref refs/tags/*, 15 minutes and the one grant", saved, err)
	}
	path := "/settings/trust-policies/" + itoa(int64(ps[0].ID)) + "/delete"
	confirm := b.get(path)
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "stops working at once") {
		t.Fatalf("delete page: got %d\n%s", confirm.status, confirm.body)
	}
	if r := b.post(path, url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: got %d\n%s", r.status, r.body)
	}
	if ps, _, _ := e.svc.ListTrustPolicies(context.Background(), p, e.account.ID, tokend.StateActive, tokend.Page{}); len(ps) != 0 {
		t.Errorf("after delete: got %d active policies, want 0", len(ps))
	}

	// A member without account-admin rights sees no way to write one, and cannot.
	e.addUser(t, "dev@example.com", perm.LicenseDeveloper)
	dev := e.browser(t)
	dev.mustSignIn("dev@example.com", ownerPassword)
	if r := dev.get("/settings/trust-policies"); r.status != http.StatusForbidden {
		t.Errorf("developer without admin rights lists policies: got %d, want 403", r.status)
	}
	devPage := dev.get("/settings/tokens/personal")
	if r := dev.post("/settings/trust-policies/new", with("csrf", csrf(t, devPage.body))); r.status != http.StatusForbidden {
		t.Errorf("developer without admin rights creates a policy: got %d, want 403", r.status)
	}
}

func TestDevicePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	g, err := e.svc.StartDeviceAuthorization(ctx, tokend.DeviceRequest{ClientID: "tokend-cli", DeviceName: "arrakis-build-01",
		IP: "198.51.100.4", UserAgent: "tokend-cli/1.2 (linux/amd64)"})
	if err != nil {
		t.Fatal(err)
	}
	// Signed out, the link goes through sign-in and back.
	b := e.browser(t)
	if r := b.get("/device?user_code=" + g.UserCode); r.status != http.StatusSeeOther ||
		!strings.HasPrefix(r.header.Get("Location"), "/signin?next=%2Fdevice%3Fuser_code%3D") {
		t.Errorf("signed out: got %d to %q, want the sign-in form coming back here", r.status, r.header.Get("Location"))
	}
	b.mustSignIn("paul@example.com", ownerPassword)
	page := b.get("/device?user_code=" + strings.ToLower(g.UserCode))
	for _, want := range []string{"arrakis-build-01", "198.51.100.4", "tokend-cli/1.2 (linux/amd64)", "Spice Harvesting", "Approve", "Deny"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	tok := csrf(t, page.body)
	if r := b.post("/device/decide", url.Values{"csrf": {tok}, "user_code": {g.UserCode}, "account_id": {"999999"},
		"decision": {"approve"}}); r.status != http.StatusBadRequest {
		t.Errorf("approve for an account of someone else: got %d, want 400", r.status)
	}
	r := b.post("/device/decide", url.Values{"csrf": {tok}, "user_code": {g.UserCode}, "account_id": {itoa(int64(e.account.ID))},
		"decision": {"approve"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Device approved") {
		t.Fatalf("approve: got %d\n%s", r.status, r.body)
	}
	tk, raw, _, err := e.svc.PollDevice(ctx, "tokend-cli", g.DeviceCode)
	if err != nil || tk.Name != "tokend CLI on arrakis-build-01" || !strings.HasPrefix(raw, "dbtu_") {
		t.Fatalf("poll after approval: got %v %q, %v", tk, raw, err)
	}
	// The code is spent: the page says so, and wrong codes are limited per user.
	if r := b.get("/device?user_code=" + g.UserCode); r.status != http.StatusNotFound {
		t.Errorf("used code: got %d, want 404", r.status)
	}
	limited := false
	for range 10 {
		r := b.post("/device", url.Values{"csrf": {tok}, "user_code": {"BBBB-BBBB"}})
		if r.status == http.StatusTooManyRequests {
			limited = true
			break
		}
		if r.status != http.StatusNotFound {
			t.Fatalf("wrong code: got %d, want 404", r.status)
		}
	}
	if !limited {
		t.Errorf("10 wrong codes in a row were never rate-limited")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFederatedTokensAreMarked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := e.svc.CreateTrustPolicy(ctx, p, e.account.ID, tokend.TrustPolicyInput{Name: "ci", Issuer: "https://gitlab.com",
		Audience: "tokend", Claims: map[string]string{"project_path": "acme/*"}, Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.now()
	tok := &tokend.Token{Kind: tokend.KindService, AccountID: e.account.ID, UID: "fedtok01", Name: "ci: project_path:acme/app",
		Hash: []byte("0123456789abcdef0123456789abcdef"), State: tokend.StateActive, ExpiresAt: now.Add(15 * time.Minute),
		TrustPolicyID: tp.ID, CreatedAt: now, UpdatedAt: now}
	if err := e.svc.Store().CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	for _, path := range []string{"/settings/service-tokens", "/settings/tokens/inventory?kind=service",
		"/settings/service-tokens/" + itoa(int64(tok.ID))} {
		r := b.get(path)
		if r.status != http.StatusOK || !strings.Contains(r.body, ">Federated</span>") {
			t.Errorf("%s: got %d, want the token marked Federated\n%s", path, r.status, r.body)
		}
	}
}
