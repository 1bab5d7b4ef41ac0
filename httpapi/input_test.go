package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tokend"
	"tokend/perm"
)

// A NUL byte (or bytes that are not UTF-8) in a name, e-mail or filter is bad input on both
// stores alike: PostgreSQL refuses it in text, SQLite would keep it.
func TestNULBytesAreBadInput(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		owner := e.initAccountOn(perm.PlanEnterprisePlus, "Arrakis", "paul@example.com")
		a := owner.Account.ID
		acct := fmt.Sprintf("/api/v3/accounts/%d", a)
		tests := []struct {
			name, method, path, body, field string
		}{
			{"user e-mail", "POST", acct + "/users/", `{"email": "chani\u0000@example.com"}`, "email"},
			{"user first name", "POST", acct + "/users/", `{"email": "chani@example.com", "first_name": "Cha\u0000ni"}`, "first_name"},
			{"group name", "POST", acct + "/groups/", `{"name": "Fremen\u0000"}`, "name"},
			{"sso mapping group", "POST", acct + "/groups/", `{"name": "Fremen", "sso_mapping_groups": ["a\u0000"]}`, "sso_mapping_groups"},
			{"project name", "POST", acct + "/projects/", `{"name": "Sietch\u0000"}`, "name"},
			{"project description", "POST", acct + "/projects/", `{"name": "Sietch", "description": "x\u0000"}`, "description"},
			{"service token name", "POST", acct + "/service-tokens/", `{"name": "ci\u0000", "permission_grants": []}`, "name"},
			{"PAT name", "POST", fmt.Sprintf("%s/users/%d/account-apikeys/", acct, owner.User.ID), `{"name": "laptop\u0000"}`, "name"},
			{"IP rule name", "POST", acct + "/ip-restrictions/", `{"name": "office\u0000", "type": 1, "cidrs": [{"cidr": "10.0.0.0/8"}]}`, "name"},
			{"IP rule description", "POST", acct + "/ip-restrictions/", `{"name": "office", "description": "\u0000", "type": 1, "cidrs": [{"cidr": "10.0.0.0/8"}]}`, "description"},
			{"account name", "POST", fmt.Sprintf("/api/v2/accounts/%d/", a), `{"name": "Arrakis\u0000"}`, "name"},
			{"group name filter", "GET", acct + "/groups/?name__icontains=%00", "", "name__icontains"},
			{"group exact name filter", "GET", acct + "/groups/?name=%00", "", "name"},
			{"project name filter", "GET", acct + "/projects/?name__icontains=%00", "", "name__icontains"},
			{"project name filter, not UTF-8", "GET", acct + "/projects/?name__icontains=%ff", "", "name__icontains"},
			{"audit event filter", "GET", acct + "/audit-logs/?event_type=%00", "", "event_type"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, bearer(owner.Token), tt.body)
				if r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
					t.Fatalf("got %d %q, want 400 naming %s: %s", r.Code, r.Body.Status.DeveloperMessage, tt.field, r.Raw)
				}
			})
		}
		t.Run("Basic e-mail", func(t *testing.T) {
			req, err := http.NewRequest("POST", e.srv.URL+fmt.Sprintf("%s/users/%d/account-apikeys/", acct, owner.User.ID),
				strings.NewReader(`{"name": "x"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth("paul\x00@example.com", "a long enough password")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("got %d, want 401", resp.StatusCode)
			}
		})
	})
}

// A body of the wrong shape is named in the user's terms: the field and the JSON kind it takes,
// never a Go type.
func TestBadJSONNamesFieldAndKind(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) { testBadJSON(t, e) })
}

func testBadJSON(t *testing.T, e *env) {
	owner := e.initAccount("Arrakis", "paul@example.com")
	acct := fmt.Sprintf("/api/v3/accounts/%d", owner.Account.ID)
	tests := []struct {
		name, path, body, field, message string
	}{
		{"list for an object", acct + "/projects/", `[]`, "body", "The request body must be an object, got a list."},
		{"number for a name", acct + "/projects/", `{"name": 5}`, "name", `Field "name" must be a string, got a number.`},
		{"string for grants", acct + "/service-tokens/", `{"name": "ci", "permission_grants": "all"}`, "permission_grants", `Field "permission_grants" must be a list, got a string.`},
		{"string for a grant", acct + "/service-tokens/", `{"name": "ci", "permission_grants": ["all"]}`, "permission_grants", `Field "permission_grants" must be an object, got a string.`},
		{"string for a type", acct + "/ip-restrictions/", `{"name": "x", "type": "allow"}`, "type", `Field "type" must be a whole number, got a string.`},
		{"fraction for an id", acct + "/assign-groups/", `{"user_id": 1.5, "desired_group_ids": []}`, "user_id", `Field "user_id" must be a whole number, got a number.`},
		{"date", fmt.Sprintf("/api/v2/accounts/%d/", owner.Account.ID), `{"tokend_settings": {"legacy_keys_until": "soon"}}`, "tokend_settings.legacy_keys_until",
			`Field "tokend_settings.legacy_keys_until" must be a date and time (RFC 3339 string), got a string in another format.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", tt.path, bearer(owner.Token), tt.body)
			if r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
				t.Fatalf("got %d %q, want 400 naming %s: %s", r.Code, r.Body.Status.DeveloperMessage, tt.field, r.Raw)
			}
			if r.Body.Status.UserMessage != tt.message {
				t.Errorf("got message %q, want %q", r.Body.Status.UserMessage, tt.message)
			}
		})
	}
}

// Bounds are checked on what the client sent, before any conversion can overflow, and a body's
// account_id must be the path's.
func TestBoundsAndBodyAccount(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		owner := e.initAccount("Arrakis", "paul@example.com")
		a := owner.Account.ID
		account := fmt.Sprintf("/api/v2/accounts/%d/", a)
		tokens := fmt.Sprintf("/api/v3/accounts/%d/service-tokens/", a)
		tests := []struct {
			name, path, body, field, mention string
		}{
			// 18446747674 s × 1e9 wraps around int64 nanoseconds to about 3600 s.
			{"lifetime that wraps to an hour", account, `{"tokend_settings": {"pat_max_lifetime_seconds": 18446747674}}`, "pat_max_lifetime_seconds", "315360000"},
			{"lifetime past the cap", account, `{"tokend_settings": {"pat_max_lifetime_seconds": 315360001}}`, "pat_max_lifetime_seconds", "315360000"},
			{"negative lifetime", account, `{"tokend_settings": {"pat_max_lifetime_seconds": -1}}`, "pat_max_lifetime_seconds", "3600"},
			{"service token for another account", tokens, fmt.Sprintf(`{"account_id": %d, "name": "ci", "permission_grants": []}`, a+1), "account_id", "path"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", tt.path, bearer(owner.Token), tt.body)
				if r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
					t.Fatalf("got %d %q, want 400 naming %s: %s", r.Code, r.Body.Status.DeveloperMessage, tt.field, r.Raw)
				}
				if !strings.Contains(r.Body.Status.UserMessage, tt.mention) {
					t.Errorf("got message %q, want it to mention %s", r.Body.Status.UserMessage, tt.mention)
				}
			})
		}
		acct, err := e.store.Account(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		if acct.PATMaxLifetime != 0 {
			t.Errorf("got PAT max lifetime %s, want none", acct.PATMaxLifetime)
		}
		ts, _, err := e.store.ListTokens(context.Background(), tokend.TokenFilter{Kind: tokend.KindService, Page: tokend.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 0 {
			t.Errorf("got %d service tokens, want 0", len(ts))
		}
		t.Run("the path's own account_id is fine", func(t *testing.T) {
			r := e.do("POST", tokens, bearer(owner.Token), fmt.Sprintf(`{"account_id": %d, "name": "ci", "permission_grants": []}`, a))
			if r.Code != http.StatusCreated {
				t.Errorf("got %d, want 201: %s", r.Code, r.Raw)
			}
		})
	})
}
