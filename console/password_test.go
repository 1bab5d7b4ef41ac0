package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tokend/perm"
)

func TestChangePasswordPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	here, elsewhere := e.browser(t), e.browser(t)
	here.mustSignIn("paul@example.com", ownerPassword)
	elsewhere.mustSignIn("paul@example.com", ownerPassword)

	page := here.get("/profile/password")
	if page.status != 200 || !strings.Contains(page.body, "Change your password") || !strings.Contains(page.body, `aria-current="page"`) {
		t.Fatalf("password page: got %d, want the form marked in the sidebar\n%s", page.status, page.body)
	}
	token := csrf(t, page.body)
	form := func(cur, next, confirm string) url.Values {
		return url.Values{"csrf": {token}, "current_password": {cur}, "new_password": {next}, "confirm_password": {confirm}}
	}
	refused := []struct {
		name string
		form url.Values
		want string
	}{
		{"wrong current password", form("not my password", "a new long password", "a new long password"), "The current password is not right."},
		{"confirmation differs", form(ownerPassword, "a new long password", "a new long passwort"), "The two new passwords differ."},
		{"too short", form(ownerPassword, "short", "short"), "at least 10 characters"},
		{"no CSRF token", url.Values{"current_password": {ownerPassword}, "new_password": {"a new long password"}, "confirm_password": {"a new long password"}}, "was not sent from this console"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := here.post("/profile/password", tt.form)
			if r.status < 400 || !strings.Contains(r.body, tt.want) {
				t.Errorf("got %d, want a 4xx saying %q\n%s", r.status, tt.want, r.body)
			}
		})
	}

	r := here.post("/profile/password", form(ownerPassword, "a new long password", "a new long password"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile/password?done=password_changed" {
		t.Fatalf("change: got %d to %q, want 303 to the page with a notice", r.status, r.header.Get("Location"))
	}
	if r := here.get("/profile/password?done=password_changed"); r.status != 200 || !strings.Contains(r.body, "Your password was changed") {
		t.Errorf("after the change: got %d, want this session kept and a notice", r.status)
	}
	if r := elsewhere.get("/profile/password"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Errorf("the other session: got %d to %q, want it signed out", r.status, r.header.Get("Location"))
	}
	if r := e.browser(t).signIn("paul@example.com", ownerPassword); r.status != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: got %d, want 401", r.status)
	}
	e.browser(t).mustSignIn("paul@example.com", "a new long password")
}

func TestPasswordResetPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u := e.addUser(t, "chani@example.com", perm.LicenseDeveloper)
	p, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, code, err := e.svc.CreatePasswordReset(ctx, p, e.account.ID, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signedIn := e.browser(t)
	signedIn.mustSignIn("chani@example.com", ownerPassword)

	b := e.browser(t)
	page := b.get("/password-reset")
	if page.status != 200 || !strings.Contains(page.body, "Set a new password") || strings.Contains(page.body, code) {
		t.Fatalf("reset page: got %d, want the form (and no code in it)\n%s", page.status, page.body)
	}
	// Every showing of the form sets a fresh double-submit token: take the latest.
	form := func(code, pw, confirm string) url.Values {
		token := csrf(t, b.get("/password-reset").body)
		return url.Values{"csrf": {token}, "code": {code}, "new_password": {pw}, "confirm_password": {confirm}}
	}
	refused := []struct {
		name string
		form func() url.Values
		want string
	}{
		{"a wrong code", func() url.Values {
			return form(strings.Repeat("x", 43), "chani's new password", "chani's new password")
		}, "not valid"},
		{"passwords differ", func() url.Values { return form(code, "chani's new password", "chani's other password") }, "The two passwords differ."},
		{"no form token", func() url.Values {
			return url.Values{"code": {code}, "new_password": {"chani's new password"}, "confirm_password": {"chani's new password"}}
		}, "The form expired"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if r := b.post("/password-reset", tt.form()); r.status < 400 || !strings.Contains(r.body, tt.want) {
				t.Errorf("got %d, want a 4xx saying %q\n%s", r.status, tt.want, r.body)
			}
		})
	}
	// Reload after a refusal posts the same form again: it gets the same answer, not an
	// expired form (the refusal keeps the form's token).
	t.Run("reload after a refusal", func(t *testing.T) {
		same := form(code, "chani's new password", "chani's other password")
		for i := range 2 {
			if r := b.post("/password-reset", same); r.status != http.StatusBadRequest || !strings.Contains(r.body, "The two passwords differ.") {
				t.Errorf("post %d: got %d, want 400 saying the passwords differ\n%s", i+1, r.status, r.body)
			}
		}
	})
	r := b.post("/password-reset", form(code, "chani's new password", "chani's new password"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin?done=password_reset" {
		t.Fatalf("reset: got %d to %q, want 303 to sign-in\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if r := b.get("/signin?done=password_reset"); !strings.Contains(r.body, "Your new password is set") {
		t.Errorf("sign-in page after the reset lacks the notice")
	}
	e.browser(t).mustSignIn("chani@example.com", "chani's new password")
	if r := signedIn.get("/profile/password"); r.status != http.StatusSeeOther {
		t.Errorf("the session from before the reset: got %d, want it signed out", r.status)
	}
	if r := b.post("/password-reset", form(code, "yet another password", "yet another password")); r.status != 400 || !strings.Contains(r.body, "not valid") {
		t.Errorf("the link a second time: got %d, want 400 saying it is not valid", r.status)
	}
}

func TestResetLinkFromUsersPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.addUser(t, "chani@example.com", perm.LicenseDeveloper)
	e.addUser(t, "gurney@example.com", perm.LicenseReadOnly)
	admin := e.browser(t)
	admin.mustSignIn("paul@example.com", ownerPassword)
	page := admin.get("/settings/users")
	action := fmt.Sprintf(`action="/settings/users/%d/password-reset"`, u.ID)
	if !strings.Contains(page.body, action) || strings.Contains(page.body, fmt.Sprintf(`action="/settings/users/%d/password-reset"`, e.owner.ID)) {
		t.Fatalf("users page: want a reset button for Chani and none for the admin themselves\n%s", page.body)
	}
	// Post, redirect, get: the link is shown once on a page of its own, so that Reload and
	// Back neither issue another link (voiding this one) nor show it again.
	r := admin.post(fmt.Sprintf("/settings/users/%d/password-reset", u.ID), url.Values{"csrf": {csrf(t, page.body)}})
	shown := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(shown, "/settings/shown-once?") {
		t.Fatalf("issuing a link: got %d to %q, want 303 to the shown-once page\n%s", r.status, shown, r.body)
	}
	r = admin.get(shown)
	linkRE := regexp.MustCompile(`value="(http://[^"]+/password-reset#([^"]+))"`)
	m := linkRE.FindStringSubmatch(r.body)
	if r.status != 200 || m == nil || r.header.Get("Cache-Control") != "no-store" || !strings.Contains(r.body, "chani@example.com") {
		t.Fatalf("reset link page: got %d (Cache-Control %q), want Chani's link shown once\n%s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	again := admin.get(shown)
	if linkRE.MatchString(again.body) || !strings.Contains(again.body, "shown once") || !strings.Contains(again.body, "Nothing new was created") {
		t.Errorf("the link's page reloaded: want it to say the link was shown once, without it\n%s", again.body)
	}
	if _, err := e.svc.CheckResetLink(context.Background(), html.UnescapeString(m[2])); err != nil {
		t.Errorf("the link shown does not work after a reload of its page: %v", err)
	}
	// Someone who may only read users sees no button, and a forged post is refused.
	rb := e.browser(t)
	rb.mustSignIn("gurney@example.com", ownerPassword)
	page = rb.get("/settings/users")
	if strings.Contains(page.body, "password-reset") {
		t.Errorf("a read-only user sees reset buttons")
	}
	if r := rb.post(fmt.Sprintf("/settings/users/%d/password-reset", u.ID), url.Values{"csrf": {csrf(t, page.body)}}); r.status != http.StatusForbidden {
		t.Errorf("a read-only user's post: got %d, want 403", r.status)
	}
}
