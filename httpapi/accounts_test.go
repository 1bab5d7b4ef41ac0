package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

type accountData struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Plan  string `json:"plan"`
	State int    `json:"state"`
}

type listExtra struct {
	Filters    map[string]any `json:"filters"`
	OrderBy    string         `json:"order_by"`
	Pagination struct {
		Count      int `json:"count"`
		TotalCount int `json:"total_count"`
	} `json:"pagination"`
}

// Paul is in two accounts with one e-mail; each account's PAT sees only its own account.
func TestAccountScopedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("Spice Harvesting", "paul.atreides@example.com")
	b := e.initAccount("Guild Navigator", "Paul.Atreides@example.com")
	if a.User.ID != b.User.ID {
		t.Fatalf("got users %d and %d, want the same user for one e-mail", a.User.ID, b.User.ID)
	}

	for _, v := range []string{"v2", "v3"} {
		t.Run(v+" list holds only the token's account", func(t *testing.T) {
			for _, tc := range []struct {
				tok  string
				want int64
			}{{a.Token, int64(a.Account.ID)}, {b.Token, int64(b.Account.ID)}} {
				r := e.do("GET", "/api/"+v+"/accounts/", bearer(tc.tok), "")
				if r.Code != http.StatusOK {
					t.Fatalf("got %d, want 200", r.Code)
				}
				var got []accountData
				r.data(t, &got)
				if len(got) != 1 || got[0].ID != tc.want {
					t.Fatalf("got %+v, want exactly account %d", got, tc.want)
				}
				var extra listExtra
				if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
					t.Fatal(err)
				}
				if extra.Pagination.Count != 1 || extra.Pagination.TotalCount != 1 {
					t.Errorf("got pagination %+v, want count 1 total 1", extra.Pagination)
				}
			}
		})
		t.Run(v+" other account is forbidden", func(t *testing.T) {
			r := e.do("GET", fmt.Sprintf("/api/%s/accounts/%d/", v, b.Account.ID), bearer(a.Token), "")
			if r.Code != http.StatusForbidden || r.Body.Status.Code != http.StatusForbidden {
				t.Fatalf("got %d (status.code %d), want 403: %s", r.Code, r.Body.Status.Code, r.Raw)
			}
			if r.Body.Status.UserMessage == "" {
				t.Errorf("got an empty user_message, want the reason")
			}
		})
		t.Run(v+" own account", func(t *testing.T) {
			r := e.do("GET", fmt.Sprintf("/api/%s/accounts/%d/", v, a.Account.ID), bearer(a.Token), "")
			var got accountData
			r.data(t, &got)
			if r.Code != http.StatusOK || got.ID != int64(a.Account.ID) || got.Name != "Spice Harvesting" || got.Plan != "enterprise" || got.State != 1 {
				t.Fatalf("got %d %+v, want 200 and the account", r.Code, got)
			}
		})
	}

	t.Run("whoami covers only the token's account", func(t *testing.T) {
		r := e.do("GET", "/api/v3/whoami/", bearer(b.Token), "")
		var got struct {
			User struct {
				ID          int64  `json:"id"`
				Email       string `json:"email"`
				Permissions []struct {
					AccountID   int64  `json:"account_id"`
					LicenseType string `json:"license_type"`
				} `json:"permissions"`
			} `json:"user"`
			Token struct {
				Kind      string `json:"kind"`
				UID       string `json:"uid"`
				AccountID int64  `json:"account_id"`
			} `json:"token"`
		}
		r.data(t, &got)
		if got.User.ID != int64(a.User.ID) || got.User.Email != "paul.atreides@example.com" {
			t.Errorf("got user %d %q, want %d paul.atreides@example.com", got.User.ID, got.User.Email, a.User.ID)
		}
		if len(got.User.Permissions) != 1 || got.User.Permissions[0].AccountID != int64(b.Account.ID) ||
			got.User.Permissions[0].LicenseType != "developer" {
			t.Errorf("got permissions %+v, want only account %d's developer license", got.User.Permissions, b.Account.ID)
		}
		if got.Token.Kind != "pat" || got.Token.UID != b.TokenUID || got.Token.AccountID != int64(b.Account.ID) {
			t.Errorf("got token %+v, want pat %s of account %d", got.Token, b.TokenUID, b.Account.ID)
		}
	})
}

func TestUpdateAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("Old name", "owner@example.com")
	path := fmt.Sprintf("/api/v2/accounts/%d/", a.Account.ID)
	tests := []struct {
		name string
		body string
		want int
	}{
		{"rename", `{"name": "New name", "state": 1}`, http.StatusOK},
		{"empty name", `{"name": "  "}`, http.StatusBadRequest},
		{"wrong type", `{"name": 5}`, http.StatusBadRequest},
		{"not json", `name=x`, http.StatusBadRequest},
		{"empty body", ``, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", path, bearer(a.Token), tt.body)
			if r.Code != tt.want {
				t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
			}
		})
	}
	r := e.do("GET", path, bearer(a.Token), "")
	var got accountData
	r.data(t, &got)
	if got.Name != "New name" {
		t.Errorf("got name %q, want %q", got.Name, "New name")
	}
}

func TestUnknownRouteIsEnvelope404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/api/v3/nothing-here/", "", "")
	if r.Code != http.StatusNotFound || r.Body.Status.Code != http.StatusNotFound {
		t.Fatalf("got %d (status.code %d), want 404", r.Code, r.Body.Status.Code)
	}
}

// Accounts are served from memory; a change must show on the very next read, on this node and
// (through the invalidation feed) on the others.
func TestAccountReadsFollowChanges(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Before", "owner@example.com")
		path := fmt.Sprintf("/api/v3/accounts/%d/", a.Account.ID)
		name := func() string {
			var got accountData
			e.do("GET", path, bearer(a.Token), "").data(t, &got)
			return got.Name
		}
		if got := name(); got != "Before" {
			t.Fatalf("got %q, want Before", got)
		}
		for _, want := range []string{"After", "After again"} {
			if r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", a.Account.ID), bearer(a.Token), fmt.Sprintf(`{"name": %q}`, want)); r.Code != http.StatusOK {
				t.Fatalf("rename: got %d", r.Code)
			}
			if got := name(); got != want {
				t.Errorf("after the rename: got %q, want %q", got, want)
			}
		}
	})
}
