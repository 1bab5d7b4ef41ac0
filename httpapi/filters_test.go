package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
)

// TestListFiltersAsClientsSendThem: the filters and orderings dbt documents (and dbtc,
// dbt-cloud-cli and Terraform send) are applied and echoed in extra.filters; an unknown one is a
// 400 naming it.
func TestListFiltersAsClientsSendThem(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Filters", "owner@example.com")
		acct, tok := a.Account.ID, a.Token
		var ps []int64
		for _, n := range []string{"delta", "Alpha", "charlie", "bravo", "echo"} {
			ps = append(ps, createProject(t, e, tok, acct, n).ID)
		}
		projects := fmt.Sprintf("/api/v3/accounts/%d/projects/", acct)
		list := func(t *testing.T, path string) ([]int64, listExtra) {
			t.Helper()
			r := e.do("GET", path, bearer(tok), "")
			if r.Code != http.StatusOK {
				t.Fatalf("GET %s: got %d, want 200: %s", path, r.Code, r.Raw)
			}
			var rows []struct {
				ID int64 `json:"id"`
			}
			r.data(t, &rows)
			var extra listExtra
			if err := json.Unmarshal(r.Body.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			got := make([]int64, len(rows))
			for i, row := range rows {
				got[i] = row.ID
			}
			return got, extra
		}
		echo := func(ids ...int64) string { b, _ := json.Marshal(ids); return string(b) }

		for _, tc := range []struct {
			name, query string
			want        []int64
			filter      string // the key that must be echoed in extra.filters
			echoed      string // its value, as JSON
			orderBy     string
		}{
			{"pk", "pk=" + fmt.Sprint(ps[2]), ps[2:3], "pk", fmt.Sprint(ps[2]), "id"},
			{"pk__gt", "pk__gt=" + fmt.Sprint(ps[2]), ps[3:], "pk__gt", fmt.Sprint(ps[2]), "id"},
			{"pk__in repeated", fmt.Sprintf("pk__in=%d&pk__in=%d", ps[4], ps[1]), []int64{ps[1], ps[4]}, "pk__in", echo(ps[4], ps[1]), "id"},
			{"pk__in comma list", fmt.Sprintf("pk__in=%d,%d", ps[4], ps[1]), []int64{ps[1], ps[4]}, "pk__in", echo(ps[4], ps[1]), "id"},
			{"pk__in JSON-ish", "pk__in=" + url.QueryEscape(fmt.Sprintf("[%d, %d]", ps[4], ps[1])), []int64{ps[1], ps[4]}, "pk__in", echo(ps[4], ps[1]), "id"},
			{"pk__in[]", fmt.Sprintf("pk__in[]=%d&pk__in[]=%d", ps[4], ps[1]), []int64{ps[1], ps[4]}, "pk__in", echo(ps[4], ps[1]), "id"},
			{"order_by name", "order_by=name", []int64{ps[1], ps[3], ps[2], ps[0], ps[4]}, "state", "1", "name"},
			{"order_by -name", "order_by=-name", []int64{ps[4], ps[0], ps[2], ps[3], ps[1]}, "state", "1", "-name"},
			{"order_by -id", "order_by=-id", []int64{ps[4], ps[3], ps[2], ps[1], ps[0]}, "limit", "100", "-id"},
			{"name__icontains and order", "name__icontains=A&order_by=-name", []int64{ps[0], ps[2], ps[3], ps[1]}, "name__icontains", `"A"`, "-name"},
			{"paging and include_related", "limit=2&offset=1&include_related=repository", ps[1:3], "offset", "1", "id"},
		} {
			for _, base := range []string{projects, fmt.Sprintf("/api/v2/accounts/%d/projects/", acct)} {
				t.Run(tc.name+" "+base[:8], func(t *testing.T) {
					got, extra := list(t, base+"?"+tc.query)
					if !slices.Equal(got, tc.want) {
						t.Errorf("got ids %v, want %v", got, tc.want)
					}
					b, _ := json.Marshal(extra.Filters[tc.filter])
					if string(b) != tc.echoed {
						t.Errorf("extra.filters[%q]: got %s, want %s (filters %v)", tc.filter, b, tc.echoed, extra.Filters)
					}
					if extra.OrderBy != tc.orderBy {
						t.Errorf("extra.order_by: got %q, want %q", extra.OrderBy, tc.orderBy)
					}
				})
			}
		}

		t.Run("users ordered by email, as dbtc asks", func(t *testing.T) {
			for _, email := range []string{"zoe@example.com", "Abe@example.com", "mia@example.com"} {
				addUser(t, e, tok, acct, fmt.Sprintf(`{"email": %q, "license_type": "developer"}`, email))
			}
			for _, tc := range []struct{ query, want string }{
				{"order_by=email", "abe@example.com mia@example.com owner@example.com zoe@example.com"},
				{"order_by=-email", "zoe@example.com owner@example.com mia@example.com abe@example.com"},
			} {
				for _, v := range []string{"v2", "v3"} {
					r := e.do("GET", fmt.Sprintf("/api/%s/accounts/%d/users/?%s&limit=100", v, acct, tc.query), bearer(tok), "")
					var users []userBody
					r.data(t, &users)
					var got []string
					for _, u := range users {
						got = append(got, u.Email)
					}
					if strings.Join(got, " ") != tc.want {
						t.Errorf("%s users?%s: got %v, want %s", v, tc.query, got, tc.want)
					}
				}
			}
		})

		t.Run("groups by pk__in and name", func(t *testing.T) {
			owner, everyone := groupID(t, e, acct, "Owner"), groupID(t, e, acct, tokend.GroupEveryone)
			got, extra := list(t, fmt.Sprintf("/api/v3/accounts/%d/groups/?pk__in=%d,%d&order_by=-name", acct, everyone, owner))
			want := []int64{owner, everyone}
			if tokend.GroupEveryone > "Owner" {
				want = []int64{everyone, owner}
			}
			if !slices.Equal(got, want) || extra.OrderBy != "-name" {
				t.Errorf("got %v ordered by %q, want %v by -name", got, extra.OrderBy, want)
			}
		})

		t.Run("unknown or bad filters are a 400 naming them", func(t *testing.T) {
			for _, tc := range []struct{ path, field string }{
				{projects + "?project_id=3", "project_id"},
				{projects + "?name=delta", "name"},
				{projects + "?pk__in=1,x", "pk__in"},
				{projects + "?pk=0", "pk"},
				{projects + "?pk__gt=-1", "pk__gt"},
				{projects + "?order_by=password", "order_by"},
				{fmt.Sprintf("/api/v3/accounts/%d/users/?order_by=salary", acct), "order_by"},
				{fmt.Sprintf("/api/v3/accounts/%d/users/?pk=1", acct), "pk"},
				{fmt.Sprintf("/api/v3/accounts/%d/groups/?pk__gt=1", acct), "pk__gt"},
				{fmt.Sprintf("/api/v3/accounts/%d/service-tokens/?name=x", acct), "name"},
				{fmt.Sprintf("/api/v3/accounts/%d/audit-logs/?logged_at=2026-01-01", acct), "logged_at"},
				{fmt.Sprintf("/api/v3/accounts/%d/audit-logs/?logged_at_start=yesterday", acct), "logged_at_start"},
				{fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/?type=1", acct), "type"},
				{"/api/v2/accounts/?owner=1", "owner"},
			} {
				r := e.do("GET", tc.path, bearer(tok), "")
				if r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: "+tc.field ||
					!strings.Contains(r.Body.Status.UserMessage, tc.field) {
					t.Errorf("GET %s: got %d %q %q, want 400 naming %s", tc.path, r.Code, r.Body.Status.DeveloperMessage, r.Body.Status.UserMessage, tc.field)
				}
			}
		})

		t.Run("audit log by logged_at_start and logged_at_end", func(t *testing.T) {
			b := e.initAccount("Audited", "audit@example.com")
			day := func(d, h int) time.Time { return time.Date(2025, 5, d, h, 0, 0, 0, time.UTC) }
			var want = map[string]int64{}
			for _, at := range []time.Time{day(1, 23), day(2, 0), day(2, 12), day(3, 23), day(4, 0)} {
				ev := &tokend.AuditEvent{AccountID: b.Account.ID, Action: "test.event", CreatedAt: at}
				if err := e.store.AppendAudit(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
				want[at.Format(time.RFC3339)] = ev.ID
			}
			base := fmt.Sprintf("/api/v3/accounts/%d/audit-logs/?event_type=test.event&", b.Account.ID)
			for _, tc := range []struct {
				query string
				want  []string
			}{
				{"logged_at_start=2025-05-02&logged_at_end=2025-05-03", []string{"2025-05-03T23:00:00Z", "2025-05-02T12:00:00Z", "2025-05-02T00:00:00Z"}},
				{"logged_at_start=2025-05-02T12:00:00Z", []string{"2025-05-04T00:00:00Z", "2025-05-03T23:00:00Z", "2025-05-02T12:00:00Z"}},
				{"logged_at_end=2025-05-02T00:00:00Z", []string{"2025-05-02T00:00:00Z", "2025-05-01T23:00:00Z"}},
				{"logged_at_end=2025-05-02T00:00:00", []string{"2025-05-02T00:00:00Z", "2025-05-01T23:00:00Z"}},
				{"logged_at_start=2025-05-04&logged_at_end=2025-05-04", []string{"2025-05-04T00:00:00Z"}},
			} {
				r := e.do("GET", base+tc.query, bearer(b.Token), "")
				if r.Code != http.StatusOK {
					t.Fatalf("%s: got %d: %s", tc.query, r.Code, r.Raw)
				}
				var evs []struct {
					ID string `json:"id"`
				}
				r.data(t, &evs)
				var got []string
				for _, ev := range evs {
					got = append(got, ev.ID)
				}
				var wantIDs []string
				for _, w := range tc.want {
					wantIDs = append(wantIDs, fmt.Sprint(want[w]))
				}
				if !slices.Equal(got, wantIDs) {
					t.Errorf("%s: got events %v, want %v (%v)", tc.query, got, wantIDs, tc.want)
				}
				var extra listExtra
				json.Unmarshal(r.Body.Extra, &extra)
				q, _ := url.ParseQuery(tc.query)
				for k := range q {
					if _, ok := extra.Filters[k]; !ok {
						t.Errorf("%s: extra.filters %v lacks %s", tc.query, extra.Filters, k)
					}
				}
			}
		})
	})
}
