package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

var newTokenRE = regexp.MustCompile(`id="new-token" class="secret-input" type="text" readonly value="([^"]+)"`)

// TestServiceTokenRenamePermissionsRotate: an admin renames a service token, edits its
// permission sets (each saying what it grants, and keeping environment categories the form
// does not show) and rotates it with an overlap, the new secret shown once; each post
// redirects. A user who may read service tokens but not change them sees no control and is
// refused in plain words.
func TestServiceTokenRenamePermissionsRotate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, raw, err := e.svc.CreateServiceToken(ctx, p, e.account.ID, tokend.ServiceTokenInput{Name: "Airflow",
		Grants: []perm.Grant{{Set: perm.Developer, AllProjects: true, WritableEnvironmentCategories: []string{"development"}}}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/settings/service-tokens/" + itoa(int64(tok.ID))
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)

	t.Run("the token page offers the controls", func(t *testing.T) {
		r := b.get(page)
		for _, want := range []string{page + "/rename", page + "/rotate", page + "/permissions", page + "/delete", "development credentials."} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the token page lacks %q", want)
			}
		}
	})

	t.Run("rename", func(t *testing.T) {
		form := b.get(page + "/rename")
		r := b.post(page+"/rename", url.Values{"csrf": {csrf(t, form.body)}, "name": {"  "}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "1 to 255 characters") {
			t.Errorf("an empty name: got %d, want 400 saying how long a name may be\n%s", r.status, r.body)
		}
		r = b.post(page+"/rename", url.Values{"csrf": {csrf(t, form.body)}, "name": {"Airflow production"}})
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != page+"?done=service_renamed" {
			t.Fatalf("rename: got %d to %q, want 303 to the token page", r.status, loc)
		}
		if got := b.get(page + "?done=service_renamed").body; !strings.Contains(got, "<h1>Airflow production") || !strings.Contains(got, "was renamed") {
			t.Errorf("after renaming the page does not show the new name and a confirmation:\n%s", got)
		}
	})

	t.Run("edit permissions", func(t *testing.T) {
		form := b.get(page + "/permissions")
		for _, want := range []string{`value="developer" selected`, `id="grants-of-job_admin"`, "Changes jobs and runs",
			`name="scope_0" value="all" data-scope="0" checked`} {
			if !strings.Contains(form.body, want) {
				t.Errorf("the permissions form lacks %q", want)
			}
		}
		r := b.post(page+"/permissions", url.Values{"csrf": {csrf(t, form.body)}, "rows": {"2"},
			"set_0": {"developer"}, "scope_0": {"all"}, "set_1": {"job_viewer"}, "scope_1": {"all"}, "op": {"save"}})
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != page+"?done=service_permissions" {
			t.Fatalf("save: got %d to %q, want 303 to the token page\n%s", r.status, loc, r.body)
		}
		got, err := e.svc.ServiceTokenPermissions(ctx, p, e.account.ID, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sets []string
		for _, g := range got.Grants() {
			sets = append(sets, string(g.Set))
			if g.Set == perm.Developer && !slices.Equal(g.WritableEnvironmentCategories, []string{"development"}) {
				t.Errorf("developer's environment categories: got %v, want [development] kept", g.WritableEnvironmentCategories)
			}
		}
		if !slices.Equal(sets, []string{"developer", "job_viewer"}) {
			t.Errorf("grants: got %v, want developer and job_viewer", sets)
		}
		r = b.post(page+"/permissions", url.Values{"csrf": {csrf(t, form.body)}, "rows": {"1"}, "set_0": {""}, "op": {"save"}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Choose at least one permission set") {
			t.Errorf("no set: got %d, want 400 asking for one\n%s", r.status, r.body)
		}
	})

	t.Run("rotate with an overlap, shown once", func(t *testing.T) {
		form := b.get(page + "/rotate")
		r := b.postShown(page+"/rotate", url.Values{"csrf": {csrf(t, form.body)}, "overlap_seconds": {"3600"}})
		m := newTokenRE.FindStringSubmatch(r.body)
		if r.status != http.StatusOK || m == nil || !strings.HasPrefix(m[1], "dbtc_") {
			t.Fatalf("rotate: got %d without a new dbtc_ token\n%s", r.status, r.body)
		}
		if !strings.Contains(r.body, "keeps working for 1 hour") {
			t.Errorf("the page does not say the old token keeps working for an hour")
		}
		for _, tt := range []struct {
			name, raw string
		}{{"old, in the overlap", raw}, {"new", m[1]}} {
			if _, err := e.svc.Authenticate(ctx, tt.raw, "192.0.2.1"); err != nil {
				t.Errorf("the %s token: %v, want it to work", tt.name, err)
			}
		}
		e.clock.advance(2 * time.Hour)
		if _, err := e.svc.Authenticate(ctx, raw, "192.0.2.1"); err == nil {
			t.Errorf("the old token after the overlap: works, want it refused")
		}
	})

	t.Run("a user who may not change service tokens", func(t *testing.T) {
		e.addUser(t, "it@example.com", perm.LicenseIT) // IT: reads service tokens, changes none
		it := e.browser(t)
		it.mustSignIn("it@example.com", ownerPassword)
		list := it.get("/settings/service-tokens")
		if list.status != http.StatusOK {
			t.Fatalf("the list: got %d, want 200", list.status)
		}
		if strings.Contains(list.body, "/settings/service-tokens/new") || strings.Contains(list.body, "/delete") {
			t.Errorf("the list offers controls to a user who may not use them:\n%s", list.body)
		}
		ts, _, err := e.svc.ListServiceTokens(ctx, p, e.account.ID, tokend.StateActive, tokend.TokenQuery{}, tokend.Page{})
		if err != nil || len(ts) == 0 {
			t.Fatalf("list: %v", err)
		}
		cur := "/settings/service-tokens/" + itoa(int64(ts[len(ts)-1].ID))
		r := it.get(cur)
		for _, ctl := range []string{"/rename", "/rotate", "/permissions", "/delete"} {
			if strings.Contains(r.body, cur+ctl) {
				t.Errorf("the token page offers %s to a user who may not use it", ctl)
			}
		}
		for _, ctl := range []string{"/rename", "/rotate", "/permissions", "/delete"} {
			r := it.get(cur + ctl)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "license does not allow it") || strings.Contains(r.body, "service_tokens") {
				t.Errorf("GET %s: got %d, want 403 in plain words\n%s", ctl, r.status, r.body)
			}
		}
	})
}
