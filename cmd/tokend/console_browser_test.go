package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tokend"
	"tokend/secret"
	"tokend/sqlite"
)

// The web console in a real headless Chromium, against the real binary: sign in, personal
// access tokens, service tokens with grants, the legacy API key, the admin pages, the account
// switcher and a refusal. With TOKEND_SCREENSHOTS=1 it also writes docs/screenshots/*.png.

const (
	chromiumPath    = "/usr/bin/chromium"
	browserPassword = "spice must flow 10191"
	stepTimeout     = 30 * time.Second
	screenshotDir   = "../../docs/screenshots"
)

// needChromium fails tb under CI when Debian's chromium is missing (.ci/run installs it), and
// skips it, saying why, elsewhere.
func needChromium(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is missing: the console's browser tests need Debian's chromium (apt-get install chromium)", chromiumPath)
		}
		tb.Skipf("%s is missing; install Debian's chromium to run the console's browser tests", chromiumPath)
	}
}

func TestConsoleInBrowser(t *testing.T) {
	needChromium(t)
	dataDir := t.TempDir()
	st := storage{"sqlite", []string{"--data-dir", dataDir}}
	var spice, guild initResult
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Spice Harvesting", "--plan", "enterprise",
		"--email", "paul.atreides@example.com", "--password", browserPassword, "--json"}, st.flags...)...), &spice)
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Guild Navigator", "--plan", "team",
		"--email", "paul.atreides@example.com", "--json"}, st.flags...)...), &guild)
	importOldToken(t, st, tokend.AccountID(spice.AccountID))
	srv := startServer(t, st)
	owner := "Token " + spice.Token
	api := func(path string) string {
		return fmt.Sprintf("%s/api/v3/accounts/%d/%s", srv.url, spice.AccountID, path)
	}

	// Data for the admin pages: projects, a second user and a group member.
	analytics := createID(t, api("projects/"), owner, `{"name": "Analytics", "description": "dbt models for the harvest"}`)
	finance := createID(t, api("projects/"), owner, `{"name": "Finance", "description": "Spice accounting"}`)
	createID(t, api("projects/"), owner, `{"name": "Logistics"}`)
	createID(t, api("users/"), owner, `{"email": "gurney.halleck@example.com", "first_name": "Gurney", "last_name": "Halleck", "password": "`+browserPassword+`", "license_type": "read_only"}`)
	chani := createID(t, api("users/"), owner, `{"email": "chani@example.com", "first_name": "Chani", "last_name": "Kynes", "license_type": "developer"}`)
	analysts := createID(t, api("groups/"), owner, `{"name": "Analysts"}`)
	if r := call(t, "POST", api(fmt.Sprintf("group-permissions/%d/", analysts)), owner, fmt.Sprintf(
		`[{"permission_set": "developer", "all_projects": false, "project_id": %d}, {"permission_set": "job_viewer", "all_projects": true}]`, analytics)); r.code != 200 {
		t.Fatalf("group permissions: got %d %s", r.code, r.Data)
	}
	if r := call(t, "POST", api("assign-groups/"), owner, fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, chani, analysts)); r.code != 200 {
		t.Fatalf("assign groups: got %d %s", r.code, r.Data)
	}

	b := newTab(t, srv.url)
	// The steps build on each other: stop at the first that fails.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { b.t = t; f(t) }) {
			t.FailNow()
		}
	}

	step("sign in", func(t *testing.T) {
		b.open("/")
		if got := b.path(); !strings.HasPrefix(got, "/signin") {
			t.Fatalf("an anonymous visit landed on %s, want the sign-in form", got)
		}
		b.shot("01-sign-in")
		b.do(chromedp.SendKeys(chromedp.ID("email"), "paul.atreides@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), browserPassword))
		b.submit(`form[action="/signin"] button[type="submit"]`)
		if got := b.path(); got != "/settings/tokens/personal" {
			t.Fatalf("after sign-in: at %s, want /settings/tokens/personal", got)
		}
	})

	var pat string
	step("create a personal access token and use it", func(t *testing.T) {
		b.submit(`a[href="/settings/tokens/personal/new"]`)
		b.do(chromedp.SendKeys(chromedp.ID("name"), "Laptop CLI"))
		b.shot("03-create-pat")
		b.submit(`form[action="/settings/tokens/personal/new"] button[type="submit"]`)
		pat = b.value("#new-token")
		if !strings.HasPrefix(pat, "dbtu_") {
			t.Fatalf("the page shows %q, want a dbtu_ token", pat)
		}
		if got := b.text(".secret-card .alert-warning"); !strings.Contains(got, "will not be shown again") {
			t.Errorf("the token page warns %q, want it to say the token will not be shown again", got)
		}
		b.shot("04-pat-created")
		b.shotAt("27-phone-token-shown-once", 390)
		// The secret came through a redirect: Reload and Back neither mint another token nor
		// show this one again.
		shown := b.path()
		b.do(chromedp.Reload())
		if got := b.text("h1"); got != "This secret was shown once" {
			t.Errorf("after a reload the page says %q, want that the secret was shown once", got)
		}
		if got := b.text("main"); strings.Contains(got, pat) {
			t.Errorf("a reload shows the secret again:\n%s", got)
		}
		b.shot("28-shown-once-reloaded")
		// Back may come from the back/forward cache, without a load event to wait for.
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`history.back(), true`)); err != nil {
			t.Fatalf("history.back: %v", err)
		}
		got := b.path()
		for try := 0; try < 50 && got != "/settings/tokens/personal/new"; try++ {
			time.Sleep(100 * time.Millisecond)
			got = b.path()
		}
		if got != "/settings/tokens/personal/new" {
			t.Errorf("Back from the secret: at %s, want the form", got)
		}
		b.open(shown)
		if got := b.text("main"); strings.Contains(got, pat) {
			t.Errorf("the secret's page, opened again, shows it:\n%s", got)
		}
		for range 3 {
			if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+pat, ""); r.code != 200 {
				t.Fatalf("whoami with the new PAT: got %d, want 200", r.code)
			}
		}
		b.open("/settings/tokens/personal")
		if got := strings.Count(b.text("main table"), "Laptop CLI"); got != 1 {
			t.Errorf("the list shows %d tokens named Laptop CLI, want 1:\n%s", got, b.text("main table"))
		}
		b.shot("02-personal-tokens")
		b.shotAt("26-phone-personal-tokens", 390)
	})

	step("a page past the end of a list", func(t *testing.T) {
		b.open("/settings/tokens/personal?offset=500")
		if got := b.text("main"); strings.Contains(got, "No personal access tokens yet") || !strings.Contains(got, "past the end of the list") {
			t.Errorf("past the last page the list says:\n%s\nwant that the page is past the end", got)
		}
		b.fits()
		b.submit(`a[rel="prev"]`)
		if got := b.path(); got != "/settings/tokens/personal?offset=0" {
			t.Errorf("Last page led to %s, want the first (and only) page", got)
		}
	})

	step("rotate a personal access token", func(t *testing.T) {
		b.open("/settings/tokens/personal")
		b.submit(fmt.Sprintf(`a[href="/settings/tokens/personal/%d/rotate"]`, tokenIDOf(t, srv.url, spice, pat)))
		b.shot("06-rotate-pat")
		b.submit(`form[action$="/rotate"] button[type="submit"]`)
		fresh := b.value("#new-token")
		if !strings.HasPrefix(fresh, "dbtu_") || fresh == pat {
			t.Fatalf("rotation shows %q, want a new dbtu_ token", fresh)
		}
		if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+pat, ""); r.code != 401 {
			t.Errorf("the rotated-away token: got %d, want 401", r.code)
		}
		if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+fresh, ""); r.code != 200 {
			t.Errorf("the new token: got %d, want 200", r.code)
		}
		pat = fresh
		b.submit(`a.btn-primary[href="/settings/tokens/personal"]`)
		b.submit(fmt.Sprintf(`a[href="/settings/tokens/personal/%d"]`, tokenIDOf(t, srv.url, spice, pat)))
		b.shot("05-personal-token")
	})

	step("delete a personal access token through the confirmation", func(t *testing.T) {
		b.open("/settings/tokens/personal")
		b.submit(`a[aria-label="Delete token Laptop CLI"]`)
		if got := b.text("h1"); got != "Delete personal access token" {
			t.Fatalf("the X led to %q, want the confirmation page", got)
		}
		b.shot("07-delete-pat")
		b.submit(`form[action$="/delete"] button.btn-danger`)
		if got := b.text(".alert-success"); !strings.Contains(got, "deleted") {
			t.Errorf("after deletion the page says %q, want a confirmation", got)
		}
		if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+pat, ""); r.code != 401 {
			t.Errorf("whoami with the deleted PAT: got %d, want 401", r.code)
		}
	})

	var service string
	var serviceID int64
	step("create a service token with grants", func(t *testing.T) {
		b.open("/settings/service-tokens")
		b.submit(`a[href="/settings/service-tokens/new"]`)
		b.do(chromedp.SendKeys(chromedp.ID("name"), "Airflow production"),
			chromedp.SetValue(chromedp.ID("set_0"), "notification_manager"))
		// A second row without JavaScript's help: the form comes back with one more row.
		b.submit(`button[value="add_row"]`)
		if got := b.value("#name"); got != "Airflow production" {
			t.Fatalf("adding a row lost the name: got %q", got)
		}
		b.do(chromedp.SetValue(chromedp.ID("set_1"), "job_viewer"),
			chromedp.Click(chromedp.CSS(`input[name="scope_1"][value="projects"]`)),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="projects_1"][value="%d"]`, analytics))))
		b.shot("09-new-service-token")
		b.submit(`.form-actions button[value="create"]`)
		service = b.value("#new-token")
		if !strings.HasPrefix(service, "dbtc_") {
			t.Fatalf("the page shows %q, want a dbtc_ token", service)
		}
		b.shot("10-service-token-created")

		// What the token may do over the API is exactly what was granted.
		bearer := "Bearer " + service
		for _, tt := range []struct {
			path string
			want int
		}{
			{"users/", 200}, // notification_manager, account-wide
			{fmt.Sprintf("projects/%d/", analytics), 200}, // job_viewer on Analytics
			{fmt.Sprintf("projects/%d/", finance), 403},   // … and nowhere else
			{"audit-logs/", 403},
		} {
			if r := call(t, "GET", api(tt.path), bearer, ""); r.code != tt.want {
				t.Errorf("GET %s with the service token: got %d, want %d", tt.path, r.code, tt.want)
			}
		}
		serviceID = tokenIDOf(t, srv.url, spice, service)
		r := call(t, "GET", api(fmt.Sprintf("service-tokens/%d/permissions/", serviceID)), owner, "")
		var grants []struct {
			Set         string `json:"permission_set"`
			AllProjects bool   `json:"all_projects"`
			ProjectID   *int64 `json:"project_id"`
		}
		if err := json.Unmarshal(r.Data, &grants); err != nil || len(grants) != 2 {
			t.Fatalf("permissions: got %s (%v), want two grants", r.Data, err)
		}
		got := map[string]string{}
		for _, g := range grants {
			scope := "all"
			if !g.AllProjects && g.ProjectID != nil {
				scope = strconv.FormatInt(*g.ProjectID, 10)
			}
			got[g.Set] = scope
		}
		if got["notification_manager"] != "all" || got["job_viewer"] != strconv.FormatInt(analytics, 10) {
			t.Errorf("permissions: got %v, want notification_manager on all projects and job_viewer on project %d", got, analytics)
		}
	})

	step("service token pages and the activity chart", func(t *testing.T) {
		for range 4 {
			call(t, "GET", api("users/"), "Bearer "+service, "")
		}
		seeded := seedActivity(t, dataDir, tokend.TokenID(serviceID))
		// 4 grant checks and 4 more calls today; uses reach the chart within a flush.
		want := fmt.Sprintf("%d requests over the last 30 days", seeded+8)
		var got string
		for try := 0; try < 10 && !strings.HasPrefix(got, want); try++ {
			if try > 0 {
				time.Sleep(300 * time.Millisecond)
			}
			b.open(fmt.Sprintf("/settings/service-tokens/%d", serviceID))
			got = b.text(".chart-figure figcaption")
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("the chart says %q, want it to start with %q", got, want)
		}
		b.shot("11-service-token")
		b.open("/settings/service-tokens")
		if got := b.text("main table"); !strings.Contains(got, "Rotate recommended") {
			t.Errorf("the imported old-format token is not marked for rotation:\n%s", got)
		}
		b.shot("08-service-tokens")
	})

	step("token inventory and bulk revoke", func(t *testing.T) {
		var extra []string
		for _, name := range []string{"Terraform staging", "Hightouch sync"} {
			var tok struct {
				TokenString string `json:"token_string"`
			}
			r := call(t, "POST", api("service-tokens/"), owner, fmt.Sprintf(`{"name": %q, "permission_grants": [{"permission_set": "job_admin", "all_projects": true}]}`, name))
			if err := json.Unmarshal(r.Data, &tok); err != nil || r.code != 201 && r.code != 200 {
				t.Fatalf("create %s: got %d %s", name, r.code, r.Data)
			}
			extra = append(extra, tok.TokenString)
		}
		b.open("/settings/tokens/inventory?kind=service")
		for _, tok := range extra {
			b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="token_id"][value="%d"]`, tokenIDOf(t, srv.url, spice, tok)))))
		}
		b.shot("12-token-inventory")
		b.submit(`form[action="/settings/tokens/inventory/revoke"] button.btn-danger`)
		if got := b.text(".alert-success"); !strings.Contains(got, "Revoked 2 tokens") {
			t.Errorf("after bulk revoke the page says %q, want \"Revoked 2 tokens\"", got)
		}
		for _, tok := range extra {
			if r := call(t, "GET", api("users/"), "Bearer "+tok, ""); r.code != 401 {
				t.Errorf("a revoked token: got %d, want 401", r.code)
			}
		}
		if r := call(t, "GET", api("users/"), "Bearer "+service, ""); r.code != 200 {
			t.Errorf("a token not selected: got %d, want 200", r.code)
		}
	})

	step("delete a service token with the trash icon", func(t *testing.T) {
		b.open("/settings/service-tokens")
		b.submit(`a[aria-label="Delete service token Airflow production"]`)
		b.shot("13-delete-service-token")
		b.submit(`form[action$="/delete"] button.btn-danger`)
		if r := call(t, "GET", api("users/"), "Bearer "+service, ""); r.code != 401 {
			t.Errorf("the deleted service token: got %d, want 401", r.code)
		}
	})

	step("legacy API key", func(t *testing.T) {
		until := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
		if r := call(t, "POST", fmt.Sprintf("%s/api/v2/accounts/%d/", srv.url, spice.AccountID), owner,
			`{"tokend_settings": {"legacy_keys_until": "`+until+`"}}`); r.code != 200 {
			t.Fatalf("open a migration window: got %d %s", r.code, r.Data)
		}
		b.open("/profile/api-key")
		b.submit(`a[href="/profile/api-key/rotate"]`)
		b.submit(`form[action="/profile/api-key/rotate"] button[type="submit"]`)
		key := b.value("#new-token")
		if key == "" {
			t.Fatal("rotation shows no key")
		}
		b.shot("15-api-key-rotated")
		for _, path := range []string{"/api/v2/accounts/", fmt.Sprintf("/api/v3/accounts/%d/users/", spice.AccountID), "/api/v2/accounts/"} {
			if r := call(t, "GET", srv.url+path, "Token "+key, ""); r.code != 200 {
				t.Errorf("legacy key in the window on %s: got %d, want 200", path, r.code)
			}
		}
		b.open("/profile/api-key")
		if got := b.text("main"); !strings.Contains(got, "GET /api/v2/accounts/") || !strings.Contains(got, "deprecated") {
			t.Errorf("the API key page does not list where the key is used:\n%s", got)
		}
		b.shot("14-api-key")
	})

	step("account settings pages", func(t *testing.T) {
		for _, p := range []struct{ path, want, shot string }{
			{"/settings/users", "gurney.halleck@example.com", "16-users"},
			{"/settings/groups", "Owner", "17-groups"},
			{"/settings/projects", "Analytics", "18-projects"},
			{"/settings/audit-log", "account_scoped_pat.created", "19-audit-log"},
		} {
			b.open(p.path)
			if got := b.text("main"); !strings.Contains(got, p.want) {
				t.Errorf("%s does not show %q:\n%s", p.path, p.want, got)
			}
			b.shot(p.shot)
		}
	})

	step("token policies", func(t *testing.T) {
		b.open("/settings/tokens/personal")
		b.submit(`a[href="/settings/token-policies"]`)
		b.do(chromedp.SetValue(chromedp.ID("pat_max_lifetime_seconds"), "7776000"),
			chromedp.SendKeys(chromedp.ID("inactivity_days"), "5"),
			chromedp.Click(chromedp.ID("reuse_revokes_chain")))
		status := b.submitStatus(`form[action="/settings/token-policies"] button[type="submit"]`)
		if got := b.text(".alert-error"); status != 400 || !strings.Contains(got, "between 30 and 365 days") {
			t.Errorf("5 days of inactivity: got %d saying %q, want 400 with the range in plain words", status, got)
		}
		b.shot("39-token-policies-refused")
		b.do(chromedp.SetValue(chromedp.ID("inactivity_days"), "90"))
		b.submit(`form[action="/settings/token-policies"] button[type="submit"]`)
		if got := b.path(); got != "/settings/token-policies?done=policies_saved" {
			t.Fatalf("after saving: at %s, want the page with a notice", got)
		}
		if got := b.value("#inactivity_days"); got != "90" {
			t.Errorf("inactivity after saving: got %q, want 90", got)
		}
		b.shot("40-token-policies")
		// Back to no policies, so that the steps after this one see the account as before.
		b.do(chromedp.SetValue(chromedp.ID("pat_max_lifetime_seconds"), "0"),
			chromedp.SetValue(chromedp.ID("inactivity_days"), ""),
			chromedp.Click(chromedp.ID("reuse_revokes_chain")))
		b.submit(`form[action="/settings/token-policies"] button[type="submit"]`)
		if got := b.path(); got != "/settings/token-policies?done=policies_saved" {
			t.Fatalf("after turning the policies off: at %s", got)
		}
	})

	step("trust policies for keyless CI", func(t *testing.T) {
		b.open("/settings/trust-policies")
		b.submit(`a[href="/settings/trust-policies/new"]`)
		b.do(chromedp.SendKeys(chromedp.ID("name"), "Deploy from main"),
			chromedp.SetValue(chromedp.ID("claims"), "repository = atreides/spice-models\nref = refs/heads/main"),
			chromedp.SetValue(chromedp.ID("set_0"), "job_admin"))
		b.shot("22-new-trust-policy")
		b.submit(`form[action="/settings/trust-policies/new"] .form-actions button[value="create"]`)
		if got := b.path(); !strings.HasPrefix(got, "/settings/trust-policies?done=trust_created") {
			t.Fatalf("after creating a trust policy: at %s, want the list", got)
		}
		got := b.text("main")
		for _, want := range []string{"Deploy from main", "token.actions.githubusercontent.com", "atreides/spice-models", "Job Admin"} {
			if !strings.Contains(got, want) {
				t.Errorf("the trust policy list lacks %q:\n%s", want, got)
			}
		}
		b.shot("23-trust-policies")
	})

	step("log the real CLI in through the device page", func(t *testing.T) {
		cfgPath := filepath.Join(t.TempDir(), "config.json")
		l := startDeviceLogin(t, srv.url, []string{"TOKEND_CONFIG=" + cfgPath})
		b.open(strings.TrimPrefix(l.link, srv.url))
		host, _ := os.Hostname()
		if got := b.text("main"); !strings.Contains(got, "asks to sign in as you") || !strings.Contains(got, host) || !strings.Contains(got, l.userCode) {
			t.Fatalf("the device page says:\n%s\nwant the CLI on %s asking, with the code %s", got, host, l.userCode)
		}
		b.shot("24-device-login")
		b.submit(`button[value="approve"]`)
		if got := b.text("main"); !strings.Contains(got, "Device approved") {
			t.Fatalf("after approving: %s", got)
		}
		b.shot("25-device-approved")
		if err := l.wait(t); err != nil {
			t.Fatalf("tokend login: %v\n%s", err, l.stderr.String())
		}
		cfg := readConfig(t, cfgPath)
		if cfg.AccountID != spice.AccountID {
			t.Errorf("the CLI logged in to account %d, want %d", cfg.AccountID, spice.AccountID)
		}
		if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+cfg.Token, ""); r.code != 200 {
			t.Errorf("whoami with the CLI's new token: got %d, want 200", r.code)
		}
	})

	step("switch accounts", func(t *testing.T) {
		b.open("/settings/service-tokens/new")
		b.do(chromedp.SetValue(chromedp.ID("account-switch"), strconv.FormatInt(guild.AccountID, 10)))
		b.submit(`form.switcher button[type="submit"]`)
		if got := b.text(".sidebar .account-name"); got != "Guild Navigator" {
			t.Fatalf("after switching, the sidebar names %q, want Guild Navigator", got)
		}
		// The switcher goes back to the section's first page: an object of one account means
		// nothing in another.
		if got := b.path(); !strings.HasPrefix(got, "/settings/service-tokens?") {
			t.Errorf("after switching: at %s, want the service tokens list", got)
		}
		b.open("/settings/service-tokens/new")
		// The Team plan calls account_admin "Owner" and offers fewer sets.
		if got := b.text("#set_0"); !strings.Contains(got, "Owner") || strings.Contains(got, "Job Viewer") {
			t.Errorf("on the Team plan the form offers:\n%s\nwant Owner and no Job Viewer", got)
		}
		b.shot("20-account-switcher")
		// A PAT made here belongs to Guild Navigator only.
		b.open("/settings/tokens/personal/new")
		b.do(chromedp.SendKeys(chromedp.ID("name"), "Guild CLI"))
		b.submit(`form[action="/settings/tokens/personal/new"] button[type="submit"]`)
		tok := b.value("#new-token")
		if r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/", srv.url, guild.AccountID), "Bearer "+tok, ""); r.code != 200 {
			t.Errorf("the Guild PAT on Guild Navigator: got %d, want 200", r.code)
		}
		if r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/", srv.url, spice.AccountID), "Bearer "+tok, ""); r.code != 403 {
			t.Errorf("the Guild PAT on Spice Harvesting: got %d, want 403", r.code)
		}
	})

	step("sign out, and a refusal for a read-only user", func(t *testing.T) {
		b.open("/settings/tokens/personal")
		b.submit(`form[action="/signout"] button`)
		if got := b.path(); !strings.HasPrefix(got, "/signin") {
			t.Fatalf("after sign-out: at %s, want the sign-in form", got)
		}
		b.open("/settings/tokens/personal")
		if got := b.path(); !strings.HasPrefix(got, "/signin") {
			t.Fatalf("a page after sign-out: at %s, want the sign-in form", got)
		}
		b.do(chromedp.SendKeys(chromedp.ID("email"), "gurney.halleck@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), browserPassword))
		b.submit(`form[action="/signin"] button[type="submit"]`)
		status := b.openStatus("/settings/service-tokens")
		if status != 403 || !strings.Contains(b.text("main"), "You cannot see service tokens in Spice Harvesting") {
			t.Errorf("a Read-Only user on service tokens: got %d %q, want 403 with the reason", status, b.text("main"))
		}
		b.shot("21-forbidden")
		if got := b.text(".sidebar"); strings.Contains(got, "Token policies") {
			t.Errorf("a Read-Only user's sidebar offers the token policies: %q", got)
		}
		if status := b.openStatus("/settings/token-policies"); status != 403 {
			t.Errorf("a Read-Only user on the token policies: got %d, want 403", status)
		}
	})
}

// tab is one browser tab with bounded steps; every step fails the current test.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newTab(t *testing.T, base string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	// The whole browser session is bounded too.
	limit, cancelLimit := context.WithTimeout(context.Background(), 5*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(limit, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelLimit() })
	// The first call starts the browser and ties its life to the context it gets: give it the
	// session's, not a step's.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	b := &tab{t: t, ctx: ctx, base: base}
	b.do(chromedp.EmulateViewport(1280, 860))
	return b
}

func (b *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// open loads a page of the console.
func (b *tab) open(path string) { b.t.Helper(); b.openStatus(path) }

// openStatus loads a page and returns its HTTP status.
func (b *tab) openStatus(path string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// submit clicks what sel finds and waits for the page it leads to, which must not be an error.
func (b *tab) submit(sel string) {
	b.t.Helper()
	if status := b.submitStatus(sel); status >= 400 {
		b.t.Fatalf("click %s: got HTTP %d at %s:\n%s", sel, status, b.location(), b.text("main"))
	}
}

// submitStatus clicks what sel finds, waits for the page it leads to and returns its status.
func (b *tab) submitStatus(sel string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("click %s: %v (at %s)", sel, err, b.location())
	}
	return resp.Status
}

func (b *tab) value(sel string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v (at %s)", sel, err, b.location())
	}
	return v
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v (at %s)", sel, err, b.location())
	}
	return strings.TrimSpace(v)
}

func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

// path is the current page's path and query.
func (b *tab) path() string { return strings.TrimPrefix(b.location(), b.base) }

// widths are the viewports every page must fit: a phone and a laptop.
var widths = []int64{390, 1280}

// fitJS measures the page: how wide the document is against the viewport, and which buttons
// (or button-like links) of the top bar and the main column lie outside the viewport.
const fitJS = `(() => {
  const vw = document.documentElement.clientWidth;
  const off = [];
  for (const el of document.querySelectorAll(".topbar .btn, main .btn, main button, main .icon-btn")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || el.closest("[hidden]")) continue;
    if (r.left < 0 || r.right > vw + 0.5) off.push((el.textContent.trim() || el.getAttribute("aria-label")) + " at " + Math.round(r.left) + "–" + Math.round(r.right) + " px");
  }
  return JSON.stringify({width: document.documentElement.scrollWidth, viewport: vw, off});
})()`

// fits checks at each of widths that the current page is no wider than the viewport and that
// its buttons are within it; it leaves the tab at the laptop width.
func (b *tab) fits() {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	for _, w := range widths {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 860)); err != nil {
			b.t.Fatalf("viewport %d: %v", w, err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](fitJS))
		if err != nil {
			b.t.Fatalf("measure %s at %d px: %v", b.path(), w, err)
		}
		var got struct {
			Width, Viewport int64
			Off             []string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			b.t.Fatalf("measure: %v: %s", err, out)
		}
		if got.Width > got.Viewport {
			b.t.Errorf("%s at %d px: the page is %d px wide, want at most %d", b.path(), w, got.Width, got.Viewport)
		}
		for _, o := range got.Off {
			b.t.Errorf("%s at %d px: button %s is outside the viewport", b.path(), w, o)
		}
	}
}

// shot saves the whole page as docs/screenshots/name.png when TOKEND_SCREENSHOTS=1, so that
// ordinary runs (and CI) never rewrite the committed images.
// Every page that has a screenshot is first checked to fit a phone and a laptop.
func (b *tab) shot(name string) { b.t.Helper(); b.fits(); b.shotAt(name, 1280) }

// shotAt saves the whole page as it looks width px wide.
func (b *tab) shotAt(name string, width int64) {
	b.t.Helper()
	if os.Getenv("TOKEND_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := b.step()
	defer cancel()
	// The height at this width decides how tall the picture is.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 860)); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	h, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`Math.ceil(document.documentElement.scrollHeight)`))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, max(h, 860))); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func mustJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// createID posts body to url with auth and returns the new object's id.
func createID(t *testing.T, url, auth, body string) int64 {
	t.Helper()
	r := call(t, "POST", url, auth, body)
	var obj struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.Data, &obj); err != nil || obj.ID == 0 || r.code >= 300 {
		t.Fatalf("POST %s: got %d %s", url, r.code, r.Data)
	}
	return obj.ID
}

// tokenIDOf finds the id of a token string through the owner's inventory, by its uid.
func tokenIDOf(t *testing.T, base string, owner initResult, tok string) int64 {
	t.Helper()
	parsed, err := secret.Parse(tok)
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	for _, kind := range []string{"pat", "service"} {
		r := call(t, "GET", fmt.Sprintf("%s/api/tokend/v1/accounts/%d/tokens/?kind=%s&state=1", base, owner.AccountID, kind), "Token "+owner.Token, "")
		var list []struct {
			ID  int64  `json:"id"`
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(r.Data, &list); err != nil {
			t.Fatalf("inventory: %v: %s", err, r.Data)
		}
		for _, x := range list {
			if x.UID == parsed.UID {
				return x.ID
			}
		}
	}
	t.Fatalf("token %s… is not in the inventory", tok[:10])
	return 0
}

// importOldToken imports an old-format service token, so that "rotate recommended" shows.
func importOldToken(t *testing.T, st storage, accountID tokend.AccountID) {
	t.Helper()
	tok := "dbtc_NightlyX1_" + strings.Repeat("0ld", 10)
	hash, err := secret.SlowHash(rand.Reader, tok, 1000)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tokens.json")
	body := fmt.Sprintf(`{"tokens": [{"account_id": %d, "uid": "NightlyX1", "hash": %q, "name": "Nightly export (2023)",
		"created_at": "2023-07-01T00:00:00Z", "permissions": [{"permission_set": "metadata_only"}]}]}`, accountID, hash)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, append([]string{"import-tokens", file}, st.flags...)...)
}

// seedActivity writes 28 past days of use for a token straight into the database of the running
// server (SQLite takes a second connection), so that the chart has a history; it returns how
// many requests it added.
func seedActivity(t *testing.T, dataDir string, tokenID tokend.TokenID) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The server counts the last 30 days by its own clock. Seeding the 28 days before today
	// keeps every seeded day, and today's uses, inside that window even when UTC midnight
	// passes between here and the chart's reading, so the count does not depend on the hour.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var uses []tokend.DailyUse
	var total int64
	for i := 1; i <= 28; i++ {
		n := int64(40 + (i*37)%90)
		if i%7 == 0 || i%7 == 6 {
			n /= 4 // quieter weekends
		}
		uses = append(uses, tokend.DailyUse{TokenID: tokenID, Day: today.AddDate(0, 0, -i), Count: n})
		total += n
	}
	if err := st.AddDailyUses(ctx, uses); err != nil {
		t.Fatal(err)
	}
	return total
}
