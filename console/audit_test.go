package console_test

import (
	"encoding/csv"
	"mime"
	"net/url"
	"strings"
	"testing"

	"tokend/perm"
)

// The audit log page filters by event type, actor, token and dates in its query string (a GET
// form: the pager and the exports keep the filters), says what is wrong with a bad filter, and
// downloads what the filters select as CSV or JSON.
func TestAuditLogFiltersAndExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	chani := e.addUser(t, "chani@example.com", perm.LicenseDeveloper)
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	form := b.get("/settings/tokens/personal/new")
	if r := b.postShown("/settings/tokens/personal/new", url.Values{"csrf": {csrf(t, form.body)}, "name": {"laptop"}, "expires_in": {"30"}}); r.status != 200 {
		t.Fatalf("create PAT: got %d, want 200", r.status)
	}
	actor := "actor=" + url.QueryEscape(itoa(int64(e.owner.ID)))

	tests := []struct {
		name, query  string
		wantStatus   int
		want, absent []string
	}{
		{"everything", "", 200, []string{"account_scoped_pat.created", "account.create"}, nil},
		{"event type", "?event_type=account_scoped_pat.created", 200, []string{"account_scoped_pat.created"}, []string{"<span class=\"action\">account.create"}},
		{"actor", "?" + actor + "&event_type=account_scoped_pat.created", 200, []string{"account_scoped_pat.created", `selected>paul@example.com`}, nil},
		{"other actor", "?actor=" + itoa(int64(chani.ID)), 200, []string{"No events match these filters."}, []string{"<span class=\"action\">"}},
		{"dates", "?from=2026-03-04&to=2026-03-04", 200, []string{"account_scoped_pat.created", `value="2026-03-04"`}, nil},
		{"dates before", "?to=2026-03-03", 200, []string{"No events match these filters."}, nil},
		{"bad date", "?from=yesterday", 400, []string{"The start date must be a date like"}, nil},
		{"backwards range", "?from=2026-03-05&to=2026-03-04", 400, []string{"must not be before the start date"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get("/settings/audit-log" + tt.query)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d, want %d\n%s", r.status, tt.wantStatus, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("got a page without %q, want it", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(r.body, a) {
					t.Errorf("got a page with %q, want none", a)
				}
			}
		})
	}

	t.Run("export links keep the filters", func(t *testing.T) {
		r := b.get("/settings/audit-log?event_type=account_scoped_pat.created")
		want := `href="/settings/audit-log/export?event_type=account_scoped_pat.created&amp;format=csv"`
		if !strings.Contains(r.body, want) {
			t.Errorf("got a page without %s", want)
		}
	})
	t.Run("csv download", func(t *testing.T) {
		r := b.get("/settings/audit-log/export?event_type=account_scoped_pat.created&format=csv")
		if r.status != 200 {
			t.Fatalf("got %d, want 200\n%s", r.status, r.body)
		}
		_, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
		if err != nil || params["filename"] != "audit-log-spice-harvesting-2026-03-04.csv" {
			t.Errorf("Content-Disposition: got %q, want an attachment audit-log-spice-harvesting-2026-03-04.csv", r.header.Get("Content-Disposition"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][2] != "account_scoped_pat.created" {
			t.Errorf("got rows %v (%v), want the header and the one PAT created", rows, err)
		}
	})
	t.Run("bad format", func(t *testing.T) {
		if r := b.get("/settings/audit-log/export?format=xlsx"); r.status != 400 || !strings.Contains(r.body, "csv or json") {
			t.Errorf("got %d, want 400 saying csv or json\n%s", r.status, r.body)
		}
	})
	t.Run("a member without the audit log", func(t *testing.T) {
		m := e.browser(t)
		m.mustSignIn("chani@example.com", ownerPassword)
		if r := m.get("/settings/audit-log/export?format=csv"); r.status != 403 {
			t.Errorf("got %d, want 403", r.status)
		}
	})
}
