package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tokend/perm"
)

// The token policies page: an admin sets the maximum lifetime, inactivity and the two rotation
// policies (post, redirect, get); a refused value comes back in plain words with the form as
// typed; members who may not change account settings are neither offered nor shown the page.
func TestTokenPoliciesPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.browser(t)
	admin.mustSignIn("paul@example.com", ownerPassword)
	page := admin.get("/settings/token-policies")
	if page.status != 200 || !strings.Contains(page.body, `href="/settings/token-policies" aria-current="page"`) {
		t.Fatalf("policies page: got %d, want the page marked in the sidebar\n%s", page.status, page.body)
	}
	token := csrf(t, page.body)
	form := func(lifetime, days string, reuse, overlap bool) url.Values {
		v := url.Values{"csrf": {token}, "pat_max_lifetime_seconds": {lifetime}, "inactivity_days": {days}}
		if reuse {
			v.Set("reuse_revokes_chain", "on")
		}
		if overlap {
			v.Set("overlap_from_first_use", "on")
		}
		return v
	}

	refused := []struct {
		name, lifetime, days, want, field string
	}{
		{"inactivity too short", "0", "5", "Inactivity must be 0 (off) or between 30 and 365 days, got 5.", "inactivity_days"},
		{"inactivity not a number", "0", "ninety", "Write the number of days as a whole number", "inactivity_days"},
		{"lifetime not offered", "60", "", "The maximum PAT lifetime must be 0 (none) or between 3600", "pat_max_lifetime_seconds"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := admin.post("/settings/token-policies", form(tt.lifetime, tt.days, true, false))
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.want) {
				t.Errorf("got %d, want 400 saying %q\n%s", r.status, tt.want, r.body)
			}
			if !strings.Contains(r.body, `id="`+tt.field+`" name="`+tt.field+`"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
				t.Errorf("got no aria-invalid field %s", tt.field)
			}
			if !strings.Contains(r.body, `name="reuse_revokes_chain" checked`) {
				t.Error("the refused form lost the ticked box")
			}
		})
	}
	a, err := e.svc.Store().Account(context.Background(), e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.ReuseRevokesChain || a.InactivityDays != 0 {
		t.Fatalf("after refusals: got reuse %v inactivity %d, want nothing saved", a.ReuseRevokesChain, a.InactivityDays)
	}

	r := admin.post("/settings/token-policies", form("7776000", "90", true, true))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/settings/token-policies?done=policies_saved" {
		t.Fatalf("save: got %d to %q, want 303 to the page with a notice\n%s", r.status, r.header.Get("Location"), r.body)
	}
	a, err = e.svc.Store().Account(context.Background(), e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.PATMaxLifetime != 90*24*time.Hour || a.InactivityDays != 90 || !a.ReuseRevokesChain || !a.OverlapFromFirstUse {
		t.Errorf("saved: got lifetime %v inactivity %d reuse %v overlap %v, want 90 days, 90, true, true",
			a.PATMaxLifetime, a.InactivityDays, a.ReuseRevokesChain, a.OverlapFromFirstUse)
	}
	page = admin.get("/settings/token-policies?done=policies_saved")
	for _, want := range []string{"The token policies are saved.", `<option value="7776000" selected>90 days</option>`,
		`value="90"`, `name="reuse_revokes_chain" checked`, `name="overlap_from_first_use" checked`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("after saving, the page lacks %q", want)
		}
	}
	// Off again: unticked boxes and an empty inactivity turn the policies off.
	if r := admin.post("/settings/token-policies", form("0", "", false, false)); r.status != http.StatusSeeOther {
		t.Fatalf("turn off: got %d\n%s", r.status, r.body)
	}
	if a, _ = e.svc.Store().Account(context.Background(), e.account.ID); a.PATMaxLifetime != 0 || a.InactivityDays != 0 || a.ReuseRevokesChain || a.OverlapFromFirstUse {
		t.Errorf("turned off: got %+v, want every policy off", a)
	}

	e.addUser(t, "chani@example.com", perm.LicenseDeveloper)
	member := e.browser(t)
	member.mustSignIn("chani@example.com", ownerPassword)
	if home := member.get("/settings/tokens/personal"); strings.Contains(home.body, "/settings/token-policies") {
		t.Error("a member without account settings write is offered the policies page")
	}
	if r := member.get("/settings/token-policies"); r.status != http.StatusForbidden {
		t.Errorf("a member opens the policies page: got %d, want 403", r.status)
	}
	memberPage := member.get("/settings/tokens/personal")
	r = member.post("/settings/token-policies", url.Values{"csrf": {csrf(t, memberPage.body)}, "pat_max_lifetime_seconds": {"0"},
		"reuse_revokes_chain": {"on"}})
	if r.status != http.StatusForbidden {
		t.Errorf("a member saves policies: got %d, want 403", r.status)
	}
}
