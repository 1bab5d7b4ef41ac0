package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"tokend/perm"
)

func TestRotateServiceToken(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		owner := e.initAccount("Arrakis", "paul@example.com")
		other := e.initAccount("Giedi Prime", "feyd@example.com")
		old := mintService(t, e, owner.Account.ID, perm.JobAdmin)
		id := tokenID(t, e, uidOf(t, old))
		path := fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/%d/rotate/", owner.Account.ID, id)
		var fresh struct {
			ID               int64  `json:"id"`
			Name             string `json:"name"`
			TokenString      string `json:"token_string"`
			PermissionGrants []struct {
				PermissionSet string `json:"permission_set"`
			} `json:"permission_grants"`
		}
		r := e.do("POST", path, bearer(owner.Token), `{"overlap_seconds": 600}`)
		if r.Code != 200 {
			t.Fatalf("rotate: got %d %s, want 200", r.Code, r.Raw)
		}
		r.data(t, &fresh)
		if fresh.ID == id || fresh.TokenString == "" || len(fresh.PermissionGrants) != 1 || fresh.PermissionGrants[0].PermissionSet != "job_admin" {
			t.Fatalf("rotate: got %+v, want a new token with the old one's grants", fresh)
		}
		for name, tok := range map[string]string{"old, within the overlap": old, "new": fresh.TokenString} {
			if r := e.do("GET", "/api/v3/whoami/", bearer(tok), ""); r.Code != 200 {
				t.Errorf("%s token: got %d, want 200", name, r.Code)
			}
		}
		tests := []struct {
			name, path, auth, body string
			code                   int
			msg                    string
		}{
			{"the replaced token again", path, bearer(owner.Token), "", 400, "replaced by a newer token"},
			{"another account's token", fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/%d/rotate/", owner.Account.ID, fresh.ID), bearer(other.Token), "", 403, ""},
			{"an overlap past a week", fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/%d/rotate/", owner.Account.ID, fresh.ID), bearer(owner.Token), `{"overlap_seconds": 9999999}`, 400, "overlap_seconds"},
			{"a missing token", fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/999999/rotate/", owner.Account.ID), bearer(owner.Token), "", 404, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", tt.path, tt.auth, tt.body)
				if r.Code != tt.code || !strings.Contains(r.Body.Status.UserMessage, tt.msg) {
					t.Errorf("got %d %q, want %d saying %q", r.Code, r.Body.Status.UserMessage, tt.code, tt.msg)
				}
			})
		}
		// At once, without an overlap: the old one stops.
		r = e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/%d/rotate/", owner.Account.ID, fresh.ID), bearer(owner.Token), "")
		if r.Code != 200 {
			t.Fatalf("rotate without overlap: got %d %s", r.Code, r.Raw)
		}
		if r := e.do("GET", "/api/v3/whoami/", bearer(fresh.TokenString), ""); r.Code != 401 {
			t.Errorf("rotated without overlap: got %d, want 401", r.Code)
		}
	})
}
