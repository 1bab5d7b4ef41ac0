package httpapi_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/httpapi"
	"tokend/perm"
)

type scimTokenBody struct {
	ID          *int64  `json:"id"`
	Name        string  `json:"name"`
	CreatedAt   *string `json:"created_at"`
	LastUsed    *string `json:"last_used"`
	TokenString *string `json:"token_string"`
}

// TestSCIMTokens: a SCIM token is a kind of its own — shown once, stored as a hash, revocable
// at once, good on its account's SCIM endpoints and refused everywhere else.
func TestSCIMTokens(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.initAccount("Provisioned", "owner@example.com")
		other := e.initAccount("Elsewhere", "other@example.com")
		acct, tok := a.Account.ID, bearer(a.Token)
		base := fmt.Sprintf("/api/v3/accounts/%d/scim-config/tokens/", acct)
		addUser(t, e, a.Token, acct, `{"email": "new.hire@example.com", "first_name": "New", "last_name": "Hire", "license_type": "analyst"}`)

		r := e.do("POST", base, tok, `{"name": "okta"}`)
		var created scimTokenBody
		r.data(t, &created)
		if r.Code != http.StatusCreated || created.ID == nil || created.TokenString == nil || !strings.HasPrefix(*created.TokenString, "dbts_") {
			t.Fatalf("create: got %d %s, want 201 with an id and a dbts_ token", r.Code, r.Raw)
		}
		scimTok, id := *created.TokenString, *created.ID

		t.Run("shown once, stored as a hash", func(t *testing.T) {
			for _, path := range []string{base, fmt.Sprintf("%s%d/", base, id)} {
				r := e.do("GET", path, tok, "")
				if r.Code != http.StatusOK || strings.Contains(string(r.Raw), scimTok) || strings.Contains(string(r.Raw), "token_string") {
					t.Errorf("GET %s: got %d %s, want the token without its string", path, r.Code, r.Raw)
				}
			}
			st, err := e.store.Token(ctx, acct, tokend.TokenID(id))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(scimTok))
			if st.Kind != tokend.KindSCIM || string(st.Hash) != string(sum[:]) || st.SlowHash != "" || st.AccountID != acct {
				t.Errorf("stored: got kind %q, account %d, a hash that does not match or a slow hash, want a SCIM token of %d stored by SHA-256", st.Kind, st.AccountID, acct)
			}
		})

		t.Run("good on the account's SCIM endpoints", func(t *testing.T) {
			users := fmt.Sprintf("/api/v3/accounts/%d/scim/v2/Users", acct)
			for _, tc := range []struct {
				query string
				want  []string
			}{
				{"", []string{"owner@example.com", "new.hire@example.com"}},
				{"?filter=" + urlEscape(`userName eq "NEW.HIRE@example.com"`), []string{"new.hire@example.com"}},
				{"?filter=" + urlEscape(`userName eq "nobody@example.com"`), nil},
				{"?startIndex=2&count=1", []string{"new.hire@example.com"}},
			} {
				r := e.do("GET", users+tc.query, bearer(scimTok), "")
				var got []struct {
					ID       string `json:"id"`
					UserName string `json:"userName"`
					Active   bool   `json:"active"`
					DBT      struct {
						LicenseType string `json:"licenseType"`
					} `json:"urn:ietf:params:scim:schemas:extension:dbtLabs:2.0:User"`
				}
				r.data(t, &got)
				var names []string
				for _, u := range got {
					names = append(names, u.UserName)
					if !u.Active || u.DBT.LicenseType == "" {
						t.Errorf("%s: user %+v, want active with a license type", tc.query, u)
					}
				}
				if r.Code != http.StatusOK || strings.Join(names, " ") != strings.Join(tc.want, " ") {
					t.Errorf("users%s: got %d %v, want %v", tc.query, r.Code, names, tc.want)
				}
			}
			r := e.do("GET", fmt.Sprintf("%s/%d", users, a.User.ID), bearer(scimTok), "")
			if r.Code != http.StatusOK || !strings.Contains(string(r.Raw), `"userName":"owner@example.com"`) {
				t.Errorf("one user: got %d %s", r.Code, r.Raw)
			}
			if r := e.do("GET", users+"?filter="+urlEscape(`emails co "x"`), bearer(scimTok), ""); r.Code != http.StatusBadRequest {
				t.Errorf("an unsupported SCIM filter: got %d, want 400", r.Code)
			}
			if err := e.svc.FlushUsage(ctx); err != nil {
				t.Fatal(err)
			}
			var read scimTokenBody
			e.do("GET", fmt.Sprintf("%s%d/", base, id), tok, "").data(t, &read)
			if read.LastUsed == nil {
				t.Errorf("after use: got last_used null, want the time of use")
			}
		})

		t.Run("refused everywhere else", func(t *testing.T) {
			for _, rt := range httpapi.Routes() {
				route := rt.Pattern
				method, pattern, _ := strings.Cut(route, " ")
				if rt.Need.SCIM || rt.Need.Public {
					continue // the SCIM endpoints; and revoke-by-possession would kill the token
				}
				path := placeholder.ReplaceAllStringFunc(pattern, func(m string) string {
					if m == "{account_id}" {
						return fmt.Sprint(acct)
					}
					return fmt.Sprint(a.User.ID)
				})
				body := ""
				if method != "GET" && method != "DELETE" {
					body = `{}`
				}
				if code := e.status(method, path, bearer(scimTok), body); code != http.StatusForbidden && code != http.StatusUnauthorized {
					t.Errorf("%s with a SCIM token: got %d, want 403", route, code)
				}
			}
		})

		t.Run("other tokens are refused on the SCIM endpoints", func(t *testing.T) {
			otherSCIM := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/scim-config/tokens/", other.Account.ID), bearer(other.Token), `{"name": "theirs"}`)
			var ot scimTokenBody
			otherSCIM.data(t, &ot)
			users := fmt.Sprintf("/api/v3/accounts/%d/scim/v2/Users", acct)
			for name, auth := range map[string]string{
				"the owner's PAT":                tok,
				"an account_admin service token": bearer(mintService(t, e, acct, perm.AccountAdmin)),
				"another account's SCIM token":   bearer(*ot.TokenString),
			} {
				if code := e.status("GET", users, auth, ""); code != http.StatusForbidden {
					t.Errorf("%s: got %d, want 403", name, code)
				}
			}
			introspect := e.doForm("POST", "/api/tokend/v1/introspect/", tok, "token="+scimTok)
			if !strings.Contains(introspect, `"active":false`) {
				t.Errorf("introspecting a SCIM token: got %s, want it inactive (it is good on SCIM only)", introspect)
			}
			if r := e.do("GET", fmt.Sprintf("%s%d/", base, *ot.ID), tok, ""); r.Code != http.StatusNotFound {
				t.Errorf("another account's SCIM token through this account's path: got %d, want 404", r.Code)
			}
		})

		t.Run("managing them takes users, groups and licenses", func(t *testing.T) {
			reader := addUser(t, e, a.Token, acct, `{"email": "reader@example.com", "license_type": "developer"}`)
			readerTok := mintPAT(t, e, acct, tokend.UserID(reader.ID))
			if r := e.do("POST", base, bearer(readerTok), `{"name": "mine"}`); r.Code != http.StatusForbidden {
				t.Errorf("a member without users write: got %d, want 403", r.Code)
			}
			if r := e.do("POST", base, tok, `{}`); r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: name" {
				t.Errorf("no name: got %d %q, want 400 naming name", r.Code, r.Body.Status.DeveloperMessage)
			}
		})

		t.Run("revoked at once", func(t *testing.T) {
			if code, _ := e.doNoBody("DELETE", fmt.Sprintf("%s%d/", base, id), tok); code != http.StatusNoContent {
				t.Fatalf("delete: got %d, want 204", code)
			}
			if code := e.status("GET", fmt.Sprintf("/api/v3/accounts/%d/scim/v2/Users", acct), bearer(scimTok), ""); code != http.StatusUnauthorized {
				t.Errorf("a revoked SCIM token: got %d, want 401", code)
			}
			if r := e.do("GET", fmt.Sprintf("%s%d/", base, id), tok, ""); r.Code != http.StatusNotFound {
				t.Errorf("GET a revoked SCIM token: got %d, want 404", r.Code)
			}
			got := auditActions(t, e, acct)
			for _, want := range []string{"scim_token.create", "scim_token.delete"} {
				if !strings.Contains(strings.Join(got, " "), want) {
					t.Errorf("audit: got %v, want %s", got, want)
				}
			}
		})
	})
}

func urlEscape(s string) string { return strings.NewReplacer(" ", "%20", `"`, "%22").Replace(s) }

// doForm posts a form-encoded body and returns the raw answer.
func (e *env) doForm(method, path, auth, form string) string {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(form))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", auth)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
