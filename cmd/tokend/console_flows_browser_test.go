package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleFlowsInBrowser runs the console's list, service-token and password-reset flows in
// a real Chromium, once on a phone (390 px) and once on a laptop (1280 px): searching,
// filtering and ordering token lists, renaming a service token, editing its permission sets
// and rotating it, and the reset link shown once. Every page is measured at both widths too.
// With TOKEND_SCREENSHOTS=1 it writes the screenshots of these pages.
func TestConsoleFlowsInBrowser(t *testing.T) {
	needChromium(t)
	st := storage{"sqlite", []string{"--data-dir", t.TempDir()}}
	var a initResult
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Spice Harvesting", "--plan", "enterprise",
		"--email", "paul.atreides@example.com", "--password", browserPassword, "--json"}, st.flags...)...), &a)
	srv := startServer(t, st)
	owner := "Token " + a.Token
	api := func(path string) string { return fmt.Sprintf("%s/api/v3/accounts/%d/%s", srv.url, a.AccountID, path) }
	createID(t, api("users/"), owner, `{"email": "chani@example.com", "first_name": "Chani", "last_name": "Kynes", "license_type": "developer", "password": "`+browserPassword+`"}`)
	createID(t, api("users/"), owner, `{"email": "thufir.hawat@example.com", "first_name": "Thufir", "last_name": "Hawat", "license_type": "it", "password": "`+browserPassword+`"}`)

	// Personal tokens, in this order; alpha is used.
	var alpha string
	for _, name := range []string{"alpha ci", "Beta deploy", "gamma ci"} {
		r := call(t, "POST", api(fmt.Sprintf("users/%d/account-apikeys/", a.UserID)), owner, fmt.Sprintf(`{"name": %q}`, name))
		var tok struct {
			TokenString string `json:"token_string"`
		}
		if err := json.Unmarshal(r.Data, &tok); err != nil || r.code != 201 {
			t.Fatalf("create %s: got %d %s", name, r.code, r.Data)
		}
		if alpha == "" {
			alpha = tok.TokenString
		}
	}
	if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+alpha, ""); r.code != 200 {
		t.Fatalf("whoami: got %d", r.code)
	}

	b := newTab(t, srv.url)
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { b.t = t; f(t) }) {
			t.FailNow()
		}
	}
	signIn := func(t *testing.T, email string) {
		t.Helper()
		b.open("/signin")
		b.do(chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), browserPassword))
		b.submit(`form[action="/signin"] button[type="submit"]`)
		if got := b.path(); strings.HasPrefix(got, "/signin") {
			t.Fatalf("sign in as %s: still at %s", email, got)
		}
	}
	// rows are the names a token list shows, in order.
	rows := func(t *testing.T) []string {
		t.Helper()
		ctx, cancel := b.step()
		defer cancel()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main .row-title")].map((a) => a.textContent.trim())`))
		if err != nil {
			t.Fatalf("rows: %v", err)
		}
		return out
	}
	// eval runs script in the page and returns its result.
	eval := func(t *testing.T, script string) string {
		t.Helper()
		ctx, cancel := b.step()
		defer cancel()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script))
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		return out
	}

	step("sign in", func(t *testing.T) { signIn(t, "paul.atreides@example.com") })

	for _, width := range widths {
		at := func(t *testing.T) {
			t.Helper()
			b.do(chromedp.EmulateViewport(width, 860))
		}
		phone := width < 640
		// shot measures the page at both widths and saves the laptop's or the phone's picture.
		shot := func(laptop, phoneName string) {
			b.t.Helper()
			b.fits()
			if phone {
				b.shotAt(phoneName, width)
			} else {
				b.shotAt(laptop, width)
			}
			b.do(chromedp.EmulateViewport(width, 860))
		}

		step(fmt.Sprintf("%d px: search, filter and order personal tokens", width), func(t *testing.T) {
			at(t)
			b.open("/settings/tokens/personal")
			if got, want := rows(t), []string{"gamma ci", "Beta deploy", "alpha ci", "tokend init"}; !slices.Equal(got, want) {
				t.Errorf("the list shows %q, want newest first %q", got, want)
			}
			b.do(chromedp.SendKeys(chromedp.ID("search"), "ci"), chromedp.SetValue(chromedp.ID("order_by"), "name"))
			b.submit(`form.list-filters button[type="submit"]`)
			if got, want := rows(t), []string{"alpha ci", "gamma ci"}; !slices.Equal(got, want) {
				t.Errorf("searching ci by name shows %q, want %q", got, want)
			}
			b.do(chromedp.Click(chromedp.CSS(`input[name="never_used"]`), chromedp.NodeVisible))
			b.submit(`form.list-filters button[type="submit"]`)
			if got, want := rows(t), []string{"gamma ci"}; !slices.Equal(got, want) {
				t.Errorf("never used ci tokens: %q, want %q", got, want)
			}
			if got := b.path(); !strings.Contains(got, "search=ci") || !strings.Contains(got, "never_used=true") {
				t.Errorf("the filtered list is at %s, want its filters in the address", got)
			}
			shot("29-token-list-filters", "34-phone-token-list-filters")
			b.do(chromedp.SetValue(chromedp.ID("search"), "nothing like it"))
			b.submit(`form.list-filters button[type="submit"]`)
			if got := b.text("main"); !strings.Contains(got, "No tokens match these filters") || strings.Contains(got, "No personal access tokens yet") {
				t.Errorf("a search that matches nothing says:\n%s", got)
			}
			b.fits()
			at(t)
			b.submit(`.empty a[href="/settings/tokens/personal"]`)
			if got := rows(t); len(got) != 4 {
				t.Errorf("clearing the filters shows %q, want every token", got)
			}
		})

		step(fmt.Sprintf("%d px: past the last page of a filtered list", width), func(t *testing.T) {
			at(t)
			b.open("/settings/tokens/personal?search=ci&offset=500")
			if got := b.text("main"); !strings.Contains(got, "past the end of the list") || strings.Contains(got, "No tokens match") {
				t.Errorf("past the last page the list says:\n%s", got)
			}
			b.fits()
			at(t)
			b.submit(`a[rel="prev"]`)
			if got := b.path(); !strings.Contains(got, "offset=0") || !strings.Contains(got, "search=ci") {
				t.Errorf("Last page led to %s, want the first page of the search", got)
			}
		})

		var service string
		var page string
		name := fmt.Sprintf("Airflow %d", width)
		step(fmt.Sprintf("%d px: find a service token and rename it", width), func(t *testing.T) {
			at(t)
			r := call(t, "POST", api("service-tokens/"), owner, fmt.Sprintf(`{"name": %q, "permission_grants": [{"permission_set": "job_viewer", "all_projects": true}]}`, name))
			var tok struct {
				TokenString string `json:"token_string"`
			}
			if err := json.Unmarshal(r.Data, &tok); err != nil || r.code >= 300 {
				t.Fatalf("create %s: got %d %s", name, r.code, r.Data)
			}
			service = tok.TokenString
			b.open("/settings/service-tokens")
			b.do(chromedp.SendKeys(chromedp.ID("search"), name))
			b.submit(`form.list-filters button[type="submit"]`)
			if got := rows(t); !slices.Equal(got, []string{name}) {
				t.Fatalf("searching %q shows %q", name, got)
			}
			b.submit(`main .row-title`)
			page = strings.SplitN(b.path(), "?", 2)[0]
			b.fits()
			at(t)
			b.submit(`a[href$="/rename"]`)
			eval(t, `document.getElementById("name").value = "", ""`)
			b.do(chromedp.SendKeys(chromedp.ID("name"), name+" production"))
			b.submit(`form[action$="/rename"] button[type="submit"]`)
			if got := b.text("h1"); !strings.HasPrefix(got, name+" production") {
				t.Errorf("after renaming the page is titled %q", got)
			}
			if got := b.text(".alert-success"); !strings.Contains(got, "renamed") {
				t.Errorf("after renaming the page says %q, want a confirmation", got)
			}
			shot("30-service-token-actions", "35-phone-service-token-actions")
		})

		step(fmt.Sprintf("%d px: edit a service token's permission sets", width), func(t *testing.T) {
			at(t)
			b.submit(`a[href$="/permissions"]`)
			if got := b.text("#grants_0"); !strings.Contains(got, "jobs and runs") {
				t.Errorf("the row of job_viewer says %q, want what it grants", got)
			}
			// Choosing another set says what that one grants (console.js, from the server's list).
			got := eval(t, `(() => { const s = document.getElementById("set_0"); s.value = "job_admin";
				s.dispatchEvent(new Event("change")); return document.getElementById("grants_0").textContent; })()`)
			if want := eval(t, `document.getElementById("grants-of-job_admin").textContent`); got != want || !strings.HasPrefix(got, "Changes") {
				t.Errorf("after choosing Job Admin the row says %q, want %q", got, want)
			}
			shot("31-service-token-permissions", "36-phone-service-token-permissions")
			b.submit(`form[action$="/permissions"] .form-actions button[value="save"]`)
			if got := b.text("main"); !strings.Contains(got, "Job Admin") || strings.Contains(got, "Job Viewer") {
				t.Errorf("after saving the token page shows:\n%s\nwant Job Admin instead of Job Viewer", got)
			}
			r := call(t, "GET", api("service-tokens/"+strings.TrimPrefix(page, "/settings/service-tokens/")+"/permissions/"), owner, "")
			if r.code != 200 || !strings.Contains(string(r.Data), `"job_admin"`) || strings.Contains(string(r.Data), `"job_viewer"`) {
				t.Errorf("the token's permissions over the API: got %d %s, want job_admin only", r.code, r.Data)
			}
		})

		step(fmt.Sprintf("%d px: rotate a service token with an overlap", width), func(t *testing.T) {
			at(t)
			b.open(page)
			b.submit(`a[href$="/rotate"]`)
			b.do(chromedp.SetValue(chromedp.ID("overlap"), "3600"))
			b.submit(`form[action$="/rotate"] button[type="submit"]`)
			fresh := b.value("#new-token")
			if !strings.HasPrefix(fresh, "dbtc_") || fresh == service {
				t.Fatalf("rotation shows %q, want a new dbtc_ token", fresh)
			}
			if got := b.text("main"); !strings.Contains(got, "keeps working for 1 hour") {
				t.Errorf("the page does not say the old token keeps working for an hour:\n%s", got)
			}
			shot("32-service-token-rotated", "37-phone-service-token-rotated")
			for _, tok := range []string{service, fresh} {
				if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+tok, ""); r.code != 200 {
					t.Errorf("whoami with the %s… token during the overlap: got %d, want 200", tok[:9], r.code)
				}
			}
			b.do(chromedp.Reload())
			if got := b.text("h1"); got != "This secret was shown once" {
				t.Errorf("after a reload the page says %q", got)
			}
			if got := b.text("main"); strings.Contains(got, fresh) {
				t.Errorf("a reload shows the secret again")
			}
		})

		var link string
		step(fmt.Sprintf("%d px: a password reset link, shown once", width), func(t *testing.T) {
			at(t)
			b.open("/settings/users")
			b.submit(`button[aria-label="Password reset link for chani@example.com"]`)
			if got := b.path(); !strings.HasPrefix(got, "/settings/shown-once?") {
				t.Fatalf("issuing a link led to %s, want the shown-once page", got)
			}
			link = b.value("#new-token")
			if !strings.Contains(link, "/password-reset#") {
				t.Fatalf("the page shows %q, want a reset link", link)
			}
			shot("33-reset-link", "38-phone-reset-link")
			b.do(chromedp.Reload())
			if got := b.text("main"); !strings.Contains(got, "shown once") || strings.Contains(got, link) {
				t.Errorf("after a reload the page says:\n%s\nwant that the link was shown once, without it", got)
			}
			back(t, b, "/settings/users")
		})

		step(fmt.Sprintf("%d px: follow the link; Back and Reload after the reset", width), func(t *testing.T) {
			at(t)
			// A page restored by Back raises no navigation events: load one afresh.
			b.open("/settings/users")
			b.submit(`form[action="/signout"] button`)
			b.open(strings.TrimPrefix(link, srv.url))
			b.do(chromedp.SendKeys(chromedp.ID("new_password"), browserPassword),
				chromedp.SendKeys(chromedp.ID("confirm_password"), browserPassword))
			b.fits()
			at(t)
			b.submit(`form[action="/password-reset"] button[type="submit"]`)
			if got := b.path(); got != "/signin?done=password_reset" {
				t.Fatalf("after the reset: at %s, want the sign-in form", got)
			}
			b.do(chromedp.Reload())
			if got := b.path(); got != "/signin?done=password_reset" || !strings.Contains(b.text("main"), "Sign in") {
				t.Errorf("a reload after the reset: at %s, want the same sign-in page", got)
			}
			back(t, b, "/password-reset")
			if got := b.text("h1"); !strings.Contains(got, "new password") {
				t.Errorf("Back after the reset shows %q, want the reset form again", got)
			}
			signIn(t, "chani@example.com") // with the password set through the link
			b.submit(`form[action="/signout"] button`)
			signIn(t, "paul.atreides@example.com")
		})
	}

	step("a user who may not change service tokens sees no control", func(t *testing.T) {
		b.submit(`form[action="/signout"] button`)
		signIn(t, "thufir.hawat@example.com")
		b.open("/settings/service-tokens")
		if got := eval(t, `String(document.querySelectorAll('main a[href$="/new"], main a[href$="/delete"]').length)`); got != "0" {
			t.Errorf("an IT user sees %s controls to create or delete service tokens, want none", got)
		}
		b.submit(`main .row-title`)
		if got := eval(t, `String(document.querySelectorAll('main a[href$="/rename"], main a[href$="/rotate"], main a[href$="/permissions"]').length)`); got != "0" {
			t.Errorf("an IT user sees %s controls to change a service token, want none", got)
		}
		b.fits()
		path := strings.SplitN(b.path(), "?", 2)[0]
		if status := b.openStatus(path + "/rotate"); status != 403 || !strings.Contains(b.text("main"), "your IT license does not allow it") {
			t.Errorf("an IT user asking for the rotate form: got %d %q, want 403 in plain words", status, b.text("main"))
		}
		b.fits()
	})
}

// back goes back in the tab's history and waits until it reaches a path starting with want;
// Back may come from the back/forward cache, without a load event to wait for.
func back(t *testing.T, b *tab, want string) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`history.back(), true`)); err != nil {
		t.Fatalf("history.back: %v", err)
	}
	got := b.path()
	for try := 0; try < 50 && !strings.HasPrefix(got, want); try++ {
		time.Sleep(100 * time.Millisecond)
		got = b.path()
	}
	if !strings.HasPrefix(got, want) {
		t.Errorf("Back: at %s, want %s", got, want)
	}
}
