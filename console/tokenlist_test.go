package console_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// rowTitles are the token names a list page shows, in order.
var rowTitleRE = regexp.MustCompile(`class="row-title" href="[^"]+">([^<]+)</a>`)

func rowTitles(body string) []string {
	var out []string
	for _, m := range rowTitleRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestTokenListSearchFilterOrder: the lists are newest first, and search, filter and order
// through the query string; a filtered list that matches nothing says so, and a page past the
// end of a filtered list says that instead.
func TestTokenListSearchFilterOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Made a minute apart, so that "newest first" has an order to follow.
	var raws []string
	for _, name := range []string{"alpha ci", "Beta deploy", "gamma ci"} {
		_, raw, err := e.svc.CreatePAT(ctx, p, e.account.ID, e.owner.ID, tokend.PATInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
		e.clock.advance(time.Minute)
	}
	for _, name := range []string{"Airflow", "Hightouch"} {
		if _, _, err := e.svc.CreateServiceToken(ctx, p, e.account.ID, tokend.ServiceTokenInput{Name: name,
			Grants: []perm.Grant{{Set: perm.JobViewer, AllProjects: true}}}); err != nil {
			t.Fatal(err)
		}
		e.clock.advance(time.Minute)
	}
	// alpha ci is used once; the others (and the token init made) never.
	if _, err := e.svc.Authenticate(ctx, raws[0], "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(10 * 24 * time.Hour)

	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	tests := []struct {
		name, path string
		want       []string
	}{
		{"personal tokens, newest first", "/settings/tokens/personal", []string{"gamma ci", "Beta deploy", "alpha ci", "tokend init"}},
		{"search, by name", "/settings/tokens/personal?search=CI&order_by=name", []string{"alpha ci", "gamma ci"}},
		{"never used, oldest first", "/settings/tokens/personal?never_used=true&order_by=created_at", []string{"tokend init", "Beta deploy", "gamma ci"}},
		{"recently used first", "/settings/tokens/personal?order_by=-last_used_at", []string{"alpha ci", "gamma ci", "Beta deploy", "tokend init"}},
		{"idle over 5 days", "/settings/tokens/personal?idle_days=5&search=ci", []string{"gamma ci", "alpha ci"}},
		{"idle over 30 days", "/settings/tokens/personal?idle_days=30&search=ci", nil},
		{"service tokens, newest first", "/settings/service-tokens", []string{"Hightouch", "Airflow"}},
		{"service tokens by name", "/settings/service-tokens?order_by=name", []string{"Airflow", "Hightouch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(tt.path)
			if r.status != http.StatusOK {
				t.Fatalf("got %d, want 200\n%s", r.status, r.body)
			}
			if got := rowTitles(r.body); !slices.Equal(got, tt.want) {
				t.Errorf("got rows %q, want %q", got, tt.want)
			}
			if tt.want == nil && !strings.Contains(r.body, "No tokens match these filters") {
				t.Errorf("an empty filtered list does not say that nothing matches:\n%s", r.body)
			}
		})
	}

	t.Run("the inventory filters too", func(t *testing.T) {
		r := b.get("/settings/tokens/inventory?kind=pat&never_used=true&order_by=name")
		got := regexp.MustCompile(`<strong>([^<]+)</strong></label>`).FindAllStringSubmatch(r.body, -1)
		var names []string
		for _, m := range got {
			names = append(names, m[1])
		}
		if want := []string{"Beta deploy", "gamma ci", "tokend init"}; !slices.Equal(names, want) {
			t.Errorf("got rows %q, want %q", names, want)
		}
		if !strings.Contains(r.body, `name="kind" value="pat"`) {
			t.Errorf("the inventory's filter form forgets the kind:\n%s", r.body)
		}
	})

	t.Run("the form shows what was asked", func(t *testing.T) {
		r := b.get("/settings/tokens/personal?search=ci&expired=true&idle_days=7&order_by=name")
		for _, want := range []string{`value="ci"`, `name="expired" value="true" checked`, `value="7"`,
			`<option value="name" selected>`, "Clear filters"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the form lacks %s", want)
			}
		}
	})

	t.Run("past the end of a filtered list", func(t *testing.T) {
		r := b.get("/settings/tokens/personal?search=ci&offset=50")
		if !strings.Contains(r.body, "past the end of the list") || strings.Contains(r.body, "No tokens match") {
			t.Errorf("got a page without the past-the-end note:\n%s", r.body)
		}
		if !strings.Contains(r.body, "search=ci") {
			t.Errorf("the link to the last page drops the search:\n%s", r.body)
		}
	})

	t.Run("a filter it cannot read is refused in plain words", func(t *testing.T) {
		r := b.get("/settings/tokens/personal?idle_days=soon")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "number of days") {
			t.Errorf("got %d, want 400 saying idle_days takes a number of days:\n%s", r.status, r.body)
		}
	})
}
