package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

type legacyKeyBody struct {
	ID     int64   `json:"id"`
	UserID int64   `json:"user_id"`
	UID    string  `json:"uid"`
	Key    *string `json:"key"`
}

type legacyReportBody struct {
	UserID int64  `json:"user_id"`
	Email  string `json:"email"`
	Uses   []struct {
		Method     string `json:"method"`
		Route      string `json:"route"`
		IP         string `json:"ip"`
		UserAgent  string `json:"user_agent"`
		Count      int64  `json:"count"`
		LastStatus int    `json:"last_status"`
		Suggestion struct {
			Kind          string  `json:"kind"`
			PermissionSet *string `json:"permission_set"`
		} `json:"suggestion"`
	} `json:"uses"`
	Suggestion struct {
		Kind          string  `json:"kind"`
		PermissionSet *string `json:"permission_set"`
		Reason        string  `json:"reason"`
	} `json:"suggestion"`
}

var hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestLegacyKeyRetirement(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Spice Harvesting", "paul@example.com")
		b := e.initAccount("Guild Navigator", "paul@example.com")
		acct, user := a.Account.ID, a.User.ID
		keyPath := fmt.Sprintf("/api/v2/users/%d/apikey/", user)

		// The user makes (rotates into existence) a key with a PAT of theirs.
		r := e.do("POST", keyPath, bearer(a.Token), "")
		var k legacyKeyBody
		r.data(t, &k)
		if r.Code != http.StatusOK || k.Key == nil || !hex40.MatchString(*k.Key) {
			t.Fatalf("rotate: got %d %+v, want a 40-hex key", r.Code, k)
		}
		key := *k.Key
		if r := e.do("GET", keyPath, bearer(a.Token), ""); !strings.Contains(string(r.Raw), k.UID) || strings.Contains(string(r.Raw), key) {
			t.Errorf("GET key: got %s, want its uid and never the key", r.Raw)
		}

		refused := func(t *testing.T, auth, path string) {
			t.Helper()
			r := e.do("GET", path, auth, "")
			if r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.Status.UserMessage, "personal access token") ||
				!strings.Contains(r.Body.Status.UserMessage, "deprecated") {
				t.Errorf("GET %s: got %d %q, want 401 saying keys are deprecated and how to get a PAT", path, r.Code, r.Body.Status.UserMessage)
			}
		}
		t.Run("refused by default", func(t *testing.T) {
			for _, auth := range []string{"Token " + key, "Bearer " + key, "Token " + strings.Repeat("ab", 20)} {
				refused(t, auth, "/api/v2/accounts/")
				refused(t, auth, fmt.Sprintf("/api/v2/accounts/%d/", acct))
			}
		})

		t.Run("the refusal names the caller's own ids", func(t *testing.T) {
			// Twice: the second answer comes from the verification cache.
			for range 2 {
				r := e.do("GET", "/api/v2/accounts/", "Token "+key, "")
				for _, want := range []string{
					fmt.Sprintf("POST /api/v3/accounts/%d/users/%d/account-apikeys/", acct, user),
					fmt.Sprintf("POST /api/v3/accounts/%d/users/%d/account-apikeys/", b.Account.ID, user),
				} {
					if !strings.Contains(r.Body.Status.UserMessage, want) {
						t.Errorf("got %q, want it to name %q", r.Body.Status.UserMessage, want)
					}
				}
				if strings.Contains(r.Body.Status.UserMessage, "{account_id}") || strings.Contains(r.Body.Status.UserMessage, "{user_id}") {
					t.Errorf("got %q, want real ids, not placeholders", r.Body.Status.UserMessage)
				}
			}
			// A key tokend does not know belongs to nobody it can name.
			r := e.do("GET", "/api/v2/accounts/", "Token "+strings.Repeat("cd", 20), "")
			if !strings.Contains(r.Body.Status.UserMessage, "/api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/") {
				t.Errorf("unknown key: got %q, want the path with placeholders", r.Body.Status.UserMessage)
			}
		})

		// The account admin opens a migration window for account A only.
		until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
		r = e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", acct), bearer(a.Token),
			fmt.Sprintf(`{"tokend_settings": {"legacy_keys_until": %q}}`, until.Format(time.RFC3339)))
		if r.Code != http.StatusOK {
			t.Fatalf("open window: got %d: %s", r.Code, r.Raw)
		}

		t.Run("works in the window, with headers", func(t *testing.T) {
			r := e.do("GET", "/api/v2/accounts/", "Token "+key, "")
			var accts []accountData
			r.data(t, &accts)
			if r.Code != http.StatusOK || len(accts) != 1 || accts[0].ID != int64(acct) {
				t.Fatalf("accounts: got %d %+v, want only account %d (B's window is closed)", r.Code, accts, acct)
			}
			if got := r.Header.Get("Deprecation"); !strings.HasPrefix(got, "@") {
				t.Errorf("got Deprecation %q, want an @-date", got)
			}
			if got, _ := http.ParseTime(r.Header.Get("Sunset")); !got.Equal(until) {
				t.Errorf("got Sunset %q, want %s", r.Header.Get("Sunset"), until)
			}
			refused(t, "Token "+key, fmt.Sprintf("/api/v3/accounts/%d/", b.Account.ID))
		})

		// A scripted series of calls from one integration.
		calls := []struct {
			method, path, body string
			want               int
		}{
			{"GET", fmt.Sprintf("/api/v2/accounts/%d/", acct), "", http.StatusOK},
			{"GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), "", http.StatusOK},
			{"GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), "", http.StatusOK},
			{"POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), `{"name": "nightly"}`, http.StatusCreated},
		}
		for _, c := range calls {
			req := e.do(c.method, c.path, "Token "+key, c.body)
			if req.Code != c.want {
				t.Fatalf("%s %s with the key: got %d, want %d: %s", c.method, c.path, req.Code, c.want, req.Raw)
			}
		}
		report := func(t *testing.T) []legacyReportBody {
			t.Helper()
			r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/legacy-key-usage/", acct), bearer(a.Token), "")
			if r.Code != http.StatusOK {
				t.Fatalf("report: got %d: %s", r.Code, r.Raw)
			}
			var rep []legacyReportBody
			r.data(t, &rep)
			return rep
		}
		t.Run("the report lists every place, with replacements", func(t *testing.T) {
			rep := report(t)
			if len(rep) != 1 || rep[0].UserID != int64(user) || rep[0].Email != "paul@example.com" {
				t.Fatalf("got %+v, want one user, paul", rep)
			}
			byRoute := map[string]int64{}
			for _, u := range rep[0].Uses {
				byRoute[u.Method+" "+u.Route] += u.Count
				if u.IP != "127.0.0.1" || u.UserAgent == "" {
					t.Errorf("use %s: got ip %q agent %q, want 127.0.0.1 and Go's agent", u.Route, u.IP, u.UserAgent)
				}
			}
			for route, want := range map[string]int64{
				"GET GET /api/v3/accounts/{account_id}/projects/":   2,
				"POST POST /api/v3/accounts/{account_id}/projects/": 1,
				"GET GET /api/v2/accounts/{account_id}/":            1,
				"GET GET /api/v2/accounts/":                         1,
			} {
				if byRoute[route] != want {
					t.Errorf("%s: got %d uses, want %d (all: %v)", route, byRoute[route], want, byRoute)
				}
			}
			sg := rep[0].Suggestion
			if sg.Kind != "service" || sg.PermissionSet == nil {
				t.Fatalf("got suggestion %+v, want a service token with a permission set", sg)
			}
			if *sg.PermissionSet == "account_admin" || *sg.PermissionSet == "owner" {
				t.Errorf("got %s, want something narrower than account admin for reading and creating projects", *sg.PermissionSet)
			}
		})

		t.Run("user context makes it a PAT", func(t *testing.T) {
			e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/%d/account-apikeys/", acct, user), "Token "+key, "")
			rep := report(t)
			if len(rep) != 1 || rep[0].Suggestion.Kind != "pat" {
				t.Fatalf("got %+v, want a PAT suggested once a user-context route was called", rep)
			}
		})

		t.Run("limited to the user's current permissions", func(t *testing.T) {
			admin := addUser(t, e, a.Token, acct, `{"email": "admin@example.com", "license_type": "developer"}`)
			setGroups(t, e, acct, tokend.UserID(admin.ID), tokend.GroupID(groupID(t, e, acct, "Owner")))
			adminTok := mintPAT(t, e, acct, tokend.UserID(admin.ID))
			m := membershipID(t, e, acct, user)
			license := func(l string) {
				t.Helper()
				r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", acct, m), bearer(adminTok), `{"license_type": "`+l+`"}`)
				if r.Code != http.StatusOK {
					t.Fatalf("license %s: got %d: %s", l, r.Code, r.Raw)
				}
			}
			license("read_only")
			r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), "Token "+key, `{"name": "blocked"}`)
			if r.Code != http.StatusForbidden {
				t.Errorf("read-only user's key creating a project: got %d, want 403", r.Code)
			}
			license("developer")
		})

		t.Run("refused again once the window closes", func(t *testing.T) {
			r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", acct), bearer(a.Token), `{"tokend_settings": {"legacy_keys_until": null}}`)
			if r.Code != http.StatusOK {
				t.Fatalf("close: got %d: %s", r.Code, r.Raw)
			}
			refused(t, "Token "+key, "/api/v2/accounts/")
			refused(t, "Token "+key, fmt.Sprintf("/api/v3/accounts/%d/projects/", acct))
		})

		t.Run("bad windows", func(t *testing.T) {
			for _, v := range []string{`"2001-01-01T00:00:00Z"`, `"2999-01-01T00:00:00Z"`, `"soon"`} {
				r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", acct), bearer(a.Token), `{"tokend_settings": {"legacy_keys_until": `+v+`}}`)
				if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.DeveloperMessage, "legacy_keys_until") {
					t.Errorf("%s: got %d %q, want 400 naming legacy_keys_until", v, r.Code, r.Body.Status.DeveloperMessage)
				}
			}
		})

		t.Run("only the user manages their key", func(t *testing.T) {
			other := addUser(t, e, a.Token, acct, `{"email": "other@example.com", "license_type": "developer"}`)
			otherTok := mintPAT(t, e, acct, tokend.UserID(other.ID))
			if r := e.do("POST", keyPath, bearer(otherTok), ""); r.Code != http.StatusForbidden {
				t.Errorf("another user rotating paul's key: got %d, want 403", r.Code)
			}
			svc := mintService(t, e, acct, perm.AccountAdmin)
			if r := e.do("GET", keyPath, bearer(svc), ""); r.Code != http.StatusForbidden {
				t.Errorf("a service token reading paul's key: got %d, want 403", r.Code)
			}
		})
	})
}

func membershipID(t testing.TB, e *env, accountID tokend.AccountID, userID tokend.UserID) int64 {
	t.Helper()
	m, err := e.store.Membership(context.Background(), accountID, userID)
	if err != nil {
		t.Fatal(err)
	}
	return int64(m.ID)
}

// A legacy key's caller chooses the user agent: the places recorded for a key are bounded
// (past the bound, new places fold into one "(other)" row per route), and the report is paged
// by user.
func TestLegacyUsageIsBounded(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.initAccount("Spice Harvesting", "paul@example.com")
		acct := a.Account.ID
		until := time.Now().Add(24 * time.Hour).UTC()
		if r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", acct), bearer(a.Token),
			fmt.Sprintf(`{"tokend_settings": {"legacy_keys_until": %q}}`, until.Format(time.RFC3339))); r.Code != http.StatusOK {
			t.Fatalf("open the window: got %d: %s", r.Code, r.Raw)
		}
		keyOf := func(userID tokend.UserID, pat string) string {
			t.Helper()
			var k legacyKeyBody
			e.do("POST", fmt.Sprintf("/api/v2/users/%d/apikey/", userID), bearer(pat), "").data(t, &k)
			if k.Key == nil {
				t.Fatal("no key")
			}
			return *k.Key
		}
		paulKey := keyOf(a.User.ID, a.Token)
		chani := addUser(t, e, a.Token, acct, `{"email": "chani@example.com"}`)
		chaniKey := keyOf(tokend.UserID(chani.ID), mintPAT(t, e, acct, tokend.UserID(chani.ID)))

		use := func(key, agent string) {
			t.Helper()
			req, _ := http.NewRequest("GET", e.srv.URL+fmt.Sprintf("/api/v2/accounts/%d/", acct), nil)
			req.Header.Set("Authorization", "Token "+key)
			req.Header.Set("User-Agent", agent)
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("legacy use: got %d, want 200", resp.StatusCode)
			}
		}
		const agents = 130
		for i := range agents {
			use(paulKey, fmt.Sprintf("agent-%d", i))
		}
		use(chaniKey, "airflow")
		report := func(query string) ([]legacyReportBody, int) {
			t.Helper()
			r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/legacy-key-usage/%s", acct, query), bearer(a.Token), "")
			if r.Code != http.StatusOK {
				t.Fatalf("report: got %d: %s", r.Code, r.Raw)
			}
			var out []legacyReportBody
			r.data(t, &out)
			var extra struct {
				Pagination struct {
					TotalCount int `json:"total_count"`
				} `json:"pagination"`
			}
			if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			return out, extra.Pagination.TotalCount
		}
		check := func(t *testing.T, wantOther int64) {
			t.Helper()
			users, total := report("?limit=1")
			if len(users) != 1 || total != 2 {
				t.Fatalf("first page of one: got %d users (total %d), want 1 of 2", len(users), total)
			}
			paul, _ := report(fmt.Sprintf("?limit=1&offset=%d", map[bool]int{true: 0, false: 1}[users[0].UserID == int64(a.User.ID)]))
			if len(paul) != 1 || paul[0].UserID != int64(a.User.ID) {
				t.Fatalf("got %+v, want Paul's uses", paul)
			}
			var other, sum int64
			for _, u := range paul[0].Uses {
				sum += u.Count
				if u.UserAgent == "(other)" {
					other += u.Count
				}
			}
			if n := len(paul[0].Uses); n > 101 || other != wantOther || sum < agents {
				t.Errorf("got %d places, %d uses in \"(other)\" (of %d), want at most 101 places and %d in \"(other)\"", n, other, sum, wantOther)
			}
		}
		t.Run("first flush", func(t *testing.T) { check(t, agents-100) })
		for i := range 10 {
			use(paulKey, fmt.Sprintf("later-%d", i))
		}
		t.Run("later flushes", func(t *testing.T) { check(t, agents-100+10) })

		stored, err := e.store.ListLegacyUses(ctx, tokend.LegacyUseFilter{AccountID: acct})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) > 102 {
			t.Errorf("got %d stored places, want at most 102 (100 of Paul's, his other, Chani's)", len(stored))
		}
	})
}
