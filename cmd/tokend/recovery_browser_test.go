package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPasswordRecoveryInBrowser follows a reset link the way its receiver would — the code in
// the fragment reaches the form through console.js and leaves the address bar — then changes
// the password again on the Personal settings page.
func TestPasswordRecoveryInBrowser(t *testing.T) {
	needChromium(t)
	st := storage{"sqlite", []string{"--data-dir", t.TempDir()}}
	var a initResult
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Sietch Tabr", "--email", "stilgar@example.com",
		"--password", browserPassword, "--json"}, st.flags...)...), &a)
	srv := startServer(t, st)
	chani := createID(t, fmt.Sprintf("%s/api/v3/accounts/%d/users/", srv.url, a.AccountID), "Token "+a.Token,
		`{"email": "chani@example.com", "license_type": "developer", "password": "a forgotten password"}`)
	env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url, "TOKEND_TOKEN=" + a.Token}
	var link struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, env, "user", "reset-link", fmt.Sprint(chani), "--json")), &link); err != nil {
		t.Fatal(err)
	}
	code := link.URL[strings.Index(link.URL, "#")+1:]

	b := newTab(t, srv.url)
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { b.t = t; f(t) }) {
			t.FailNow()
		}
	}
	step("open the reset link", func(t *testing.T) {
		b.open(strings.TrimPrefix(link.URL, srv.url))
		if got := b.value("#code"); got != code {
			t.Fatalf("the code field holds %q, want the link's code", got)
		}
		if loc := b.location(); strings.Contains(loc, "#") || strings.Contains(loc, code) {
			t.Errorf("the address bar still shows %s, want the code gone", loc)
		}
		ctx, cancel := b.step()
		defer cancel()
		hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("[data-reset-code]").hidden`))
		if err != nil || !hidden {
			t.Errorf("the code field: hidden %v (%v), want it hidden once filled", hidden, err)
		}
	})
	step("set a new password", func(t *testing.T) {
		b.do(chromedp.SendKeys(chromedp.ID("new_password"), "chani's new password"),
			chromedp.SendKeys(chromedp.ID("confirm_password"), "chani's new password"))
		b.submit(`form[action="/password-reset"] button[type="submit"]`)
		if got := b.path(); got != "/signin?done=password_reset" || !strings.Contains(b.text("main"), "Your new password is set") {
			t.Fatalf("after the reset: at %s, want the sign-in form with a notice", got)
		}
	})
	step("sign in with it and change it", func(t *testing.T) {
		b.do(chromedp.SendKeys(chromedp.ID("email"), "chani@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), "chani's new password"))
		b.submit(`form[action="/signin"] button[type="submit"]`)
		b.submit(`a[href="/profile/password"]`)
		b.do(chromedp.SendKeys(chromedp.ID("current_password"), "chani's new password"),
			chromedp.SendKeys(chromedp.ID("new_password"), "chani's third password"),
			chromedp.SendKeys(chromedp.ID("confirm_password"), "chani's third password"))
		b.submit(`form[action="/profile/password"] button[type="submit"]`)
		if got := b.path(); got != "/profile/password?done=password_changed" || !strings.Contains(b.text("main"), "Your password was changed") {
			t.Fatalf("after the change: at %s, want the page with a notice", got)
		}
	})
	srv.stop(t)
	if strings.Contains(srv.logs.String(), code) {
		t.Errorf("the reset code reached the server log")
	}
}
