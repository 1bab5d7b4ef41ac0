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

// The console's least-privilege page shows what a service token used and the change before
// applying it; one button applies it, and a proposal that moved since it was shown is not.
func TestAdviceApplyInConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	owner, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := e.svc.CreateProject(ctx, owner, e.account.ID, tokend.ProjectInput{Name: "Arrakeen"})
	if err != nil {
		t.Fatal(err)
	}
	tok, raw, err := e.svc.CreateServiceToken(ctx, owner, e.account.ID, tokend.ServiceTokenInput{Name: "ci",
		Grants: []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}}})
	if err != nil {
		t.Fatal(err)
	}
	useProject := func() error {
		p, err := e.svc.Authenticate(ctx, raw, "127.0.0.1")
		if err != nil {
			return err
		}
		_, err = e.svc.Project(ctx, p, e.account.ID, proj.ID)
		return err
	}
	if err := useProject(); err != nil {
		t.Fatal(err)
	}

	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	path := fmt.Sprintf("/settings/service-tokens/%d/advice", tok.ID)
	page := b.get(path)
	for _, want := range []string{"projects:read", "Arrakeen", "job_viewer", "account_admin", "It would lose", "Apply the proposed permissions"} {
		if page.status != http.StatusOK || !strings.Contains(page.body, want) {
			t.Fatalf("advice page: got %d, want 200 with %q\n%s", page.status, want, page.body)
		}
	}
	proposal := regexp.MustCompile(`name="proposal" value="([^"]+)"`).FindStringSubmatch(page.body)
	if proposal == nil {
		t.Fatalf("no proposal in the form\n%s", page.body)
	}
	tests := []struct {
		name, proposal string
		want           int
	}{
		{"a proposal that moved is shown again", "account_admin@all", http.StatusConflict},
		{"the proposal shown is applied", proposal[1], http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post(path, url.Values{"csrf": {csrf(t, page.body)}, "proposal": {tt.proposal}})
			if r.status != tt.want {
				t.Fatalf("got %d, want %d\n%s", r.status, tt.want, r.body)
			}
		})
	}
	got, err := e.svc.Store().Token(ctx, tok.AccountID, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g := got.Grants(); len(g) != 1 || g[0].Set != perm.JobViewer || g[0].ProjectID != int64(proj.ID) {
		t.Fatalf("grants after applying: got %+v, want job_viewer on project %d", g, proj.ID)
	}
	if err := useProject(); err != nil {
		t.Errorf("the observed call after applying: got %v, want it allowed", err)
	}
	p, err := e.svc.Authenticate(ctx, raw, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateProject(ctx, p, e.account.ID, tokend.ProjectInput{Name: "Other"}); tokend.ErrorCode(err) != tokend.EForbidden {
		t.Errorf("creating a project after applying: got %v, want forbidden", err)
	}
	if r := b.get(path); !strings.Contains(r.body, "already holds exactly what it needs") {
		t.Errorf("advice page after applying: want it to say nothing is left to change\n%s", r.body)
	}
}

// A token disabled for inactivity is marked in the inventory, and an admin enables it there.
func TestDisabledTokenInConsole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	days := 30
	if _, err := e.svc.UpdateAccount(ctx, owner, e.account.ID, tokend.AccountUpdate{InactivityDays: &days}); err != nil {
		t.Fatal(err)
	}
	tok, raw, err := e.svc.CreateServiceToken(ctx, owner, e.account.ID, tokend.ServiceTokenInput{Name: "nightly",
		Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(31 * 24 * time.Hour)
	if n, err := e.svc.DisableInactive(ctx); err != nil || n < 1 {
		t.Fatalf("DisableInactive: got %d (%v), want the idle token disabled", n, err)
	}
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	page := b.get("/settings/tokens/inventory?kind=service")
	for _, want := range []string{"nightly", ">Disabled</span>", fmt.Sprintf(`formaction="/settings/tokens/%d/enable"`, tok.ID)} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("inventory: want %q in it\n%s", want, page.body)
		}
	}
	if list := b.get("/settings/service-tokens"); !strings.Contains(list.body, ">Disabled</span>") {
		t.Errorf("service-token list: want the Disabled badge")
	}
	r := b.post(fmt.Sprintf("/settings/tokens/%d/enable", tok.ID), url.Values{"csrf": {csrf(t, page.body)}, "kind": {"service"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("enable: got %d, want 303\n%s", r.status, r.body)
	}
	if _, err := e.svc.Authenticate(ctx, raw, "127.0.0.1"); err != nil {
		t.Errorf("after enabling: got %v, want the token to work", err)
	}
	if page := b.get("/settings/tokens/inventory?kind=service"); strings.Contains(page.body, ">Disabled</span>") {
		t.Errorf("inventory after enabling: still marked disabled")
	}
}
