package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestTokenInventoryQuery: tokend's own token list takes the console's search, filters and
// orders (the same parameters, read by the same parser), applies them in the store and echoes
// them; dbt's token lists keep refusing parameters dbt does not define.
func TestTokenInventoryQuery(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Query", "owner@example.com")
		acct, user := a.Account.ID, a.User.ID
		alpha := createPAT(t, e, a.Token, acct, user, `{"name": "alpha ci"}`)
		beta := createPAT(t, e, a.Token, acct, user, `{"name": "Beta deploy"}`)
		gamma := createPAT(t, e, a.Token, acct, user, `{"name": "gamma ci"}`)
		if r := e.do("GET", "/api/v3/whoami/", bearer(*alpha.TokenString), ""); r.Code != http.StatusOK {
			t.Fatalf("whoami: got %d, want 200", r.Code)
		}
		// Filters on last use read the store, which the usage flush brings up to date.
		if err := e.svc.FlushUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
		inv := fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/?kind=pat&", acct)

		for _, tc := range []struct {
			name, query string
			want        []int64
			orderBy     string
			echoed      map[string]string
		}{
			{"search, name descending", "search=CI&order_by=-name", []int64{gamma.ID, alpha.ID}, "-name", map[string]string{"search": "CI"}},
			{"search a uid prefix", "search=" + url.QueryEscape(beta.UID[:6]), []int64{beta.ID}, "id", nil},
			{"never used", "search=ci&never_used=true", []int64{gamma.ID}, "id", map[string]string{"never_used": "true"}},
			{"idle for a day: nothing yet", "search=ci&idle_days=1", nil, "id", map[string]string{"idle_days": "1"}},
			{"expired: none", "expired=1", nil, "id", map[string]string{"expired": "true"}},
			{"newest first", "search=ci&order_by=-created_at", []int64{gamma.ID, alpha.ID}, "-created_at", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("GET", inv+tc.query, bearer(a.Token), "")
				if r.Code != http.StatusOK {
					t.Fatalf("GET ?%s: got %d, want 200: %s", tc.query, r.Code, r.Raw)
				}
				var rows []patBody
				r.data(t, &rows)
				var got []int64
				for _, row := range rows {
					got = append(got, row.ID)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("got ids %v, want %v", got, tc.want)
				}
				var extra listExtra
				if err := json.Unmarshal(r.Body.Extra, &extra); err != nil {
					t.Fatal(err)
				}
				if extra.OrderBy != tc.orderBy {
					t.Errorf("extra.order_by: got %q, want %q", extra.OrderBy, tc.orderBy)
				}
				for k, v := range tc.echoed {
					if extra.Filters[k] != v {
						t.Errorf("extra.filters[%q]: got %v, want %q", k, extra.Filters[k], v)
					}
				}
			})
		}

		for _, tc := range []struct{ name, path string }{
			{"an unknown order", inv + "order_by=secret"},
			{"negative idle days", inv + "idle_days=-1"},
			{"a boolean that is none", inv + "expired=maybe"},
			{"dbt's PAT list takes no tokend filters", patsPath(acct, user) + "?search=ci"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := e.do("GET", tc.path, bearer(a.Token), ""); r.Code != http.StatusBadRequest {
					t.Errorf("GET %s: got %d, want 400: %s", tc.path, r.Code, r.Raw)
				}
			})
		}
	})
}
