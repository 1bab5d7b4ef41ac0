package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// credBody is dbt's UserCredentialsResponse as a client reads it.
type credBody struct {
	ID            int64   `json:"id"`
	AccountID     int64   `json:"account_id"`
	UserID        int64   `json:"user_id"`
	ProjectID     int64   `json:"project_id"`
	CredentialsID int64   `json:"credentials_id"`
	State         int     `json:"state"`
	CreatedAt     *string `json:"created_at"`
	UpdatedAt     *string `json:"updated_at"`
	Credentials   struct {
		ID        int64 `json:"id"`
		AccountID int64 `json:"account_id"`
		ProjectID int64 `json:"project_id"`
		State     int   `json:"state"`
	} `json:"credentials"`
	Project *struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		AccountID int64  `json:"account_id"`
		State     int    `json:"state"`
	} `json:"project"`
}

func credsPath(userID tokend.UserID) string {
	return fmt.Sprintf("/api/v3/users/%d/credentials/", userID)
}

func credPath(userID tokend.UserID, id int64) string {
	return fmt.Sprintf("%s%d/", credsPath(userID), id)
}

// credFixture is account A with its owner, a developer in the Member group, two projects and an
// account_admin service token, and account B, a second account of the same owner.
type credFixture struct {
	a, b              *tokend.InitResult
	acct              int64
	dev               int64
	devTok            string
	svcTok            string
	p1, p2            projectBody
	ownerInB, foreign string // the owner's PAT of B; B's other user's PAT
	foreignUser       int64
}

func newCredFixture(t testing.TB, e *env) credFixture {
	t.Helper()
	f := credFixture{a: e.initAccount("Arrakis", "paul@example.com")}
	f.acct = int64(f.a.Account.ID)
	f.dev = addUser(t, e, f.a.Token, tokend.AccountID(f.acct), `{"email": "chani@example.com", "license_type": "developer"}`).ID
	setGroups(t, e, tokend.AccountID(f.acct), tokend.UserID(f.dev), tokend.GroupID(groupID(t, e, tokend.AccountID(f.acct), tokend.GroupMember)))
	f.devTok = mintPAT(t, e, tokend.AccountID(f.acct), tokend.UserID(f.dev))
	f.svcTok = mintService(t, e, tokend.AccountID(f.acct), perm.AccountAdmin)
	f.p1 = createProject(t, e, f.a.Token, tokend.AccountID(f.acct), "Spice Harvest")
	f.p2 = createProject(t, e, f.a.Token, tokend.AccountID(f.acct), "Water Rights")
	// The same owner in a second account (one e-mail, one user), and someone else there.
	f.b = e.initAccount("Caladan", "paul@example.com")
	if f.b.User.ID != f.a.User.ID {
		t.Fatalf("init B: got user %d, want the owner of A (%d)", f.b.User.ID, f.a.User.ID)
	}
	f.ownerInB = f.b.Token
	f.foreignUser = addUser(t, e, f.b.Token, f.b.Account.ID, `{"email": "duncan@example.com", "license_type": "developer"}`).ID
	setGroups(t, e, f.b.Account.ID, tokend.UserID(f.foreignUser), tokend.GroupID(groupID(t, e, f.b.Account.ID, tokend.GroupMember)))
	f.foreign = mintPAT(t, e, f.b.Account.ID, tokend.UserID(f.foreignUser))
	return f
}

// createCred creates an association through the API and returns it.
func createCred(t testing.TB, e *env, tok string, userID tokend.UserID, body string) credBody {
	t.Helper()
	r := e.do("POST", credsPath(userID), bearer(tok), body)
	if r.Code != http.StatusCreated || r.Body.Status.Code != http.StatusCreated {
		t.Fatalf("create credentials: got %d (status.code %d), want 201: %s", r.Code, r.Body.Status.Code, r.Raw)
	}
	var c credBody
	r.data(t, &c)
	return c
}

// getCred reads an association that must exist.
func getCred(t testing.TB, e *env, tok string, userID tokend.UserID, id int64) credBody {
	t.Helper()
	r := e.do("GET", credPath(userID, id), bearer(tok), "")
	if r.Code != http.StatusOK {
		t.Fatalf("GET credentials %d: got %d, want 200: %s", id, r.Code, r.Raw)
	}
	var c credBody
	r.data(t, &c)
	return c
}

// listCreds lists with query and returns the ids and the extra.
func listCreds(t testing.TB, e *env, tok string, userID tokend.UserID, query string) ([]int64, listExtra) {
	t.Helper()
	r := e.do("GET", credsPath(userID)+query, bearer(tok), "")
	if r.Code != http.StatusOK {
		t.Fatalf("list credentials%s: got %d, want 200: %s", query, r.Code, r.Raw)
	}
	var cs []credBody
	r.data(t, &cs)
	ids := []int64{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	var extra listExtra
	if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
		t.Fatal(err)
	}
	return ids, extra
}

// wantCred checks the fields of c against what was asked for.
func wantCred(t testing.TB, what string, c credBody, acct, user int64, p projectBody, credsID int64, state int) {
	t.Helper()
	if c.ID <= 0 || c.AccountID != acct || c.UserID != user || c.ProjectID != p.ID || c.CredentialsID != credsID ||
		c.State != state || c.CreatedAt == nil || c.UpdatedAt == nil {
		t.Errorf("%s: got %+v, want account %d, user %d, project %d, credentials %d, state %d and both times",
			what, c, acct, user, p.ID, credsID, state)
	}
	if cr := c.Credentials; cr.ID != credsID || cr.AccountID != acct || cr.ProjectID != p.ID || cr.State != state {
		t.Errorf("%s: got credentials %+v, want {id %d, account %d, project %d, state %d}", what, cr, credsID, acct, p.ID, state)
	}
	if pr := c.Project; pr == nil || pr.ID != p.ID || pr.Name != p.Name || pr.AccountID != acct || pr.State != p.State {
		t.Errorf("%s: got project %+v, want %+v", what, pr, p)
	}
}

func TestUserCredentialLifecycle(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newCredFixture(t, e)
		body := fmt.Sprintf(`{"account_id": %d, "user_id": %d, "project_id": %d, "credentials_id": 42, "state": 1}`,
			f.acct, f.dev, f.p1.ID)
		c := createCred(t, e, f.devTok, tokend.UserID(f.dev), body)
		wantCred(t, "create", c, f.acct, f.dev, f.p1, 42, 1)

		t.Run("get, with and without the slash", func(t *testing.T) {
			for _, pth := range []string{credPath(tokend.UserID(f.dev), c.ID), strings.TrimSuffix(credPath(tokend.UserID(f.dev), c.ID), "/")} {
				r := e.do("GET", pth, bearer(f.devTok), "")
				var got credBody
				r.data(t, &got)
				if r.Code != http.StatusOK {
					t.Fatalf("GET %s: got %d, want 200: %s", pth, r.Code, r.Raw)
				}
				wantCred(t, "GET "+pth, got, f.acct, f.dev, f.p1, 42, 1)
			}
		})

		t.Run("create with only the required fields", func(t *testing.T) {
			other := createCred(t, e, f.devTok, tokend.UserID(f.dev), fmt.Sprintf(`{"project_id": %d, "credentials_id": 7}`, f.p2.ID))
			wantCred(t, "create", other, f.acct, f.dev, f.p2, 7, 1)
			if other.ID == c.ID {
				t.Errorf("got id %d twice, want a new association", c.ID)
			}
		})

		t.Run("update", func(t *testing.T) {
			r := e.do("POST", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok), fmt.Sprintf(`{"project_id": %d, "credentials_id": 43}`, f.p2.ID))
			var got credBody
			r.data(t, &got)
			if r.Code != http.StatusOK {
				t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
			}
			wantCred(t, "update", got, f.acct, f.dev, f.p2, 43, 1)
			if got.ID != c.ID || *got.CreatedAt != *c.CreatedAt {
				t.Errorf("got id %d created %s, want id %d created %s", got.ID, *got.CreatedAt, c.ID, *c.CreatedAt)
			}
			wantCred(t, "GET after update", getCred(t, e, f.devTok, tokend.UserID(f.dev), c.ID), f.acct, f.dev, f.p2, 43, 1)
		})

		t.Run("delete, then get shows state 2", func(t *testing.T) {
			code, raw := e.doNoBody("DELETE", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok))
			if code != http.StatusNoContent || len(raw) != 0 {
				t.Fatalf("DELETE: got %d with %d bytes, want 204 and no body", code, len(raw))
			}
			wantCred(t, "GET after delete", getCred(t, e, f.devTok, tokend.UserID(f.dev), c.ID), f.acct, f.dev, f.p2, 43, 2)
			if code, _ := e.doNoBody("DELETE", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok)); code != http.StatusNoContent {
				t.Errorf("second DELETE: got %d, want 204", code)
			}
		})

		t.Run("list filters by state", func(t *testing.T) {
			all, _ := listCreds(t, e, f.devTok, tokend.UserID(f.dev), "?state=all")
			if len(all) != 2 || all[0] != c.ID {
				t.Fatalf("state=all: got %v, want 2 ids starting with %d", all, c.ID)
			}
			tests := []struct {
				query string
				want  []int64
			}{
				{"", all[1:]},
				{"?state=1", all[1:]},
				{"?state=active", all[1:]},
				{"?state=2", all[:1]},
				{"?state=deleted", all[:1]},
				{"?state=all", all},
			}
			for _, tt := range tests {
				t.Run(tt.query, func(t *testing.T) {
					ids, extra := listCreds(t, e, f.devTok, tokend.UserID(f.dev), tt.query)
					if !slices.Equal(ids, tt.want) || extra.Pagination.TotalCount != len(tt.want) || extra.Pagination.Count != len(tt.want) {
						t.Errorf("got %v (count %d, total %d), want %v", ids, extra.Pagination.Count, extra.Pagination.TotalCount, tt.want)
					}
				})
			}
		})

		t.Run("restore", func(t *testing.T) {
			r := e.do("POST", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok), `{"state": 1}`)
			var got credBody
			r.data(t, &got)
			if r.Code != http.StatusOK || got.State != 1 {
				t.Errorf("got %d state %d, want 200 state 1: %s", r.Code, got.State, r.Raw)
			}
		})

		t.Run("delete by update", func(t *testing.T) {
			r := e.do("POST", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok), `{"state": 2}`)
			var got credBody
			r.data(t, &got)
			if r.Code != http.StatusOK || got.State != 2 || got.Credentials.State != 2 {
				t.Errorf("got %d state %d (credentials.state %d), want 200 and 2", r.Code, got.State, got.Credentials.State)
			}
		})

		t.Run("audit", func(t *testing.T) {
			evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: tokend.AccountID(f.acct),
				Page: tokend.Page{Limit: tokend.MaxLimit}})
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, ev := range evs {
				if !strings.HasPrefix(ev.Action, "credentials.") {
					continue
				}
				count[ev.Action]++
				if ev.ActorUserID != tokend.UserID(f.dev) || ev.ActorToken == "" || ev.TargetType != "user_credentials" ||
					ev.Detail["user_id"] != fmt.Sprint(f.dev) || ev.IP != "127.0.0.1" {
					t.Errorf("%s: got actor %d token %q target %s detail %v ip %q, want dev %d by PAT uid, user_credentials, user_id, 127.0.0.1",
						ev.Action, ev.ActorUserID, ev.ActorToken, ev.TargetType, ev.Detail, ev.IP, f.dev)
				}
				if ev.Action == "credentials.create" && ev.TargetID == c.ID {
					want := map[string]string{"user_id": fmt.Sprint(f.dev), "project_id": fmt.Sprint(f.p1.ID), "credentials_id": "42"}
					for k, v := range want {
						if ev.Detail[k] != v {
							t.Errorf("credentials.create detail: got %v, want %v", ev.Detail, want)
							break
						}
					}
				}
			}
			// Two creates; one update (project and credentials) and one restore; the DELETE and
			// the update to state 2 delete; the second DELETE changed nothing.
			want := map[string]int{"credentials.create": 2, "credentials.update": 2, "credentials.delete": 2}
			for action, n := range want {
				if count[action] != n {
					t.Errorf("got %d %s events, want %d (all: %v)", count[action], action, n, count)
				}
			}
		})
	})
}

func TestUserCredentialUserContext(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newCredFixture(t, e)
		devCred := createCred(t, e, f.devTok, tokend.UserID(f.dev), fmt.Sprintf(`{"project_id": %d, "credentials_id": 1}`, f.p1.ID))
		owner := f.a.User.ID
		ownerCred := createCred(t, e, f.a.Token, owner, fmt.Sprintf(`{"project_id": %d, "credentials_id": 2}`, f.p1.ID))
		createBody := fmt.Sprintf(`{"project_id": %d, "credentials_id": 3}`, f.p1.ID)

		type call struct{ method, path, body string }
		onDev := []call{
			{"GET", credsPath(tokend.UserID(f.dev)), ""},
			{"POST", credsPath(tokend.UserID(f.dev)), createBody},
			{"GET", credPath(tokend.UserID(f.dev), devCred.ID), ""},
			{"POST", credPath(tokend.UserID(f.dev), devCred.ID), `{"credentials_id": 9}`},
			{"DELETE", credPath(tokend.UserID(f.dev), devCred.ID), ""},
		}
		tests := []struct {
			name  string
			tok   string
			calls []call
			want  int
			msg   string
		}{
			// A service token, however powerful, is not a person.
			{"account_admin service token", f.svcTok, onDev, http.StatusForbidden, "personal access token"},
			// Not even an account admin manages someone else's credentials.
			{"account admin's PAT on another user", f.a.Token, onDev, http.StatusForbidden, "own user"},
			// A PAT of another account and another user: the user does not match.
			{"another account's PAT of another user", f.foreign, onDev, http.StatusForbidden, "own user"},
			// The owner's PAT of B on the owner's own path: the user matches, but an association
			// made in A does not exist in B.
			{"own PAT of another account", f.ownerInB, []call{
				{"GET", credPath(owner, ownerCred.ID), ""},
				{"POST", credPath(owner, ownerCred.ID), `{"credentials_id": 9}`},
				{"DELETE", credPath(owner, ownerCred.ID), ""},
			}, http.StatusNotFound, "not found"},
			// An id of another user's association through one's own path.
			{"own path, another user's id", f.devTok, []call{
				{"GET", credPath(tokend.UserID(f.dev), ownerCred.ID), ""},
				{"POST", credPath(tokend.UserID(f.dev), ownerCred.ID), `{"credentials_id": 9}`},
				{"DELETE", credPath(tokend.UserID(f.dev), ownerCred.ID), ""},
			}, http.StatusNotFound, "not found"},
			{"missing id", f.devTok, []call{{"GET", credPath(tokend.UserID(f.dev), 999999), ""}}, http.StatusNotFound, "not found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, c := range tt.calls {
					r := e.do(c.method, c.path, bearer(tt.tok), c.body)
					if r.Code != tt.want || r.Body.Status.Code != tt.want {
						t.Errorf("%s %s: got %d (status.code %d), want %d: %s", c.method, c.path, r.Code, r.Body.Status.Code, tt.want, r.Raw)
						continue
					}
					if !strings.Contains(r.Body.Status.UserMessage, tt.msg) {
						t.Errorf("%s %s: got message %q, want it to mention %q", c.method, c.path, r.Body.Status.UserMessage, tt.msg)
					}
				}
			})
		}

		t.Run("nothing changed", func(t *testing.T) {
			got := getCred(t, e, f.devTok, tokend.UserID(f.dev), devCred.ID)
			if got.State != 1 || got.CredentialsID != 1 {
				t.Errorf("dev's association: got state %d credentials %d, want 1 and 1", got.State, got.CredentialsID)
			}
			if ids, _ := listCreds(t, e, f.devTok, tokend.UserID(f.dev), "?state=all"); !slices.Equal(ids, []int64{devCred.ID}) {
				t.Errorf("dev's list: got %v, want only [%d]", ids, devCred.ID)
			}
			if got := getCred(t, e, f.a.Token, owner, ownerCred.ID); got.State != 1 || got.CredentialsID != 2 {
				t.Errorf("owner's association: got state %d credentials %d, want 1 and 2", got.State, got.CredentialsID)
			}
		})

		t.Run("each account's PAT lists its own account's associations", func(t *testing.T) {
			pB := createProject(t, e, f.ownerInB, f.b.Account.ID, "Castle")
			inB := createCred(t, e, f.ownerInB, owner, fmt.Sprintf(`{"project_id": %d, "credentials_id": 5}`, pB.ID))
			wantCred(t, "create in B", inB, int64(f.b.Account.ID), int64(owner), pB, 5, 1)
			for _, tc := range []struct {
				name, tok string
				want      []int64
			}{{"A", f.a.Token, []int64{ownerCred.ID}}, {"B", f.ownerInB, []int64{inB.ID}}} {
				if ids, extra := listCreds(t, e, tc.tok, owner, "?state=all"); !slices.Equal(ids, tc.want) || extra.Pagination.TotalCount != 1 {
					t.Errorf("PAT of %s: got %v (total %d), want %v", tc.name, ids, extra.Pagination.TotalCount, tc.want)
				}
			}
		})

		t.Run("refusals are audited", func(t *testing.T) {
			if err := e.svc.FlushUsage(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := auditActions(t, e, tokend.AccountID(f.acct)); !slices.Contains(got, "token.refused") {
				t.Errorf("got audit actions %v, want token.refused among them", got)
			}
		})
	})
}

func TestUserCredentialValidation(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newCredFixture(t, e)
		c := createCred(t, e, f.devTok, tokend.UserID(f.dev), fmt.Sprintf(`{"project_id": %d, "credentials_id": 1}`, f.p1.ID))
		gone := createProject(t, e, f.a.Token, tokend.AccountID(f.acct), "Abandoned")
		if code, _ := e.doNoBody("DELETE", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", f.acct, gone.ID), bearer(f.a.Token)); code != http.StatusOK {
			t.Fatalf("delete project: got %d, want 200", code)
		}
		pB := createProject(t, e, f.ownerInB, f.b.Account.ID, "Castle")
		create := func(fields string) string {
			return fmt.Sprintf(`{"project_id": %d, "credentials_id": 1%s}`, f.p1.ID, fields)
		}

		tests := []struct {
			name         string
			method, path string
			body         string
			field        string
		}{
			{"create without project_id", "POST", credsPath(tokend.UserID(f.dev)), `{"credentials_id": 1}`, "project_id"},
			{"create with a missing project", "POST", credsPath(tokend.UserID(f.dev)), `{"project_id": 999999, "credentials_id": 1}`, "project_id"},
			{"create with another account's project", "POST", credsPath(tokend.UserID(f.dev)), fmt.Sprintf(`{"project_id": %d, "credentials_id": 1}`, pB.ID), "project_id"},
			{"create with a deleted project", "POST", credsPath(tokend.UserID(f.dev)), fmt.Sprintf(`{"project_id": %d, "credentials_id": 1}`, gone.ID), "project_id"},
			{"create with a negative project_id", "POST", credsPath(tokend.UserID(f.dev)), `{"project_id": -3, "credentials_id": 1}`, "project_id"},
			{"create with a string project_id", "POST", credsPath(tokend.UserID(f.dev)), `{"project_id": "one", "credentials_id": 1}`, "project_id"},
			{"create without credentials_id", "POST", credsPath(tokend.UserID(f.dev)), fmt.Sprintf(`{"project_id": %d}`, f.p1.ID), "credentials_id"},
			{"create with credentials_id 0", "POST", credsPath(tokend.UserID(f.dev)), fmt.Sprintf(`{"project_id": %d, "credentials_id": 0}`, f.p1.ID), "credentials_id"},
			{"create with a negative credentials_id", "POST", credsPath(tokend.UserID(f.dev)), fmt.Sprintf(`{"project_id": %d, "credentials_id": -1}`, f.p1.ID), "credentials_id"},
			{"create in another account", "POST", credsPath(tokend.UserID(f.dev)), create(fmt.Sprintf(`, "account_id": %d`, f.b.Account.ID)), "account_id"},
			{"create with account_id 0", "POST", credsPath(tokend.UserID(f.dev)), create(`, "account_id": 0`), "account_id"},
			{"create for another user", "POST", credsPath(tokend.UserID(f.dev)), create(fmt.Sprintf(`, "user_id": %d`, f.a.User.ID)), "user_id"},
			{"create deleted", "POST", credsPath(tokend.UserID(f.dev)), create(`, "state": 2`), "state"},
			{"create with state 0", "POST", credsPath(tokend.UserID(f.dev)), create(`, "state": 0`), "state"},
			{"create not JSON", "POST", credsPath(tokend.UserID(f.dev)), `{`, "body"},
			{"update to a missing project", "POST", credPath(tokend.UserID(f.dev), c.ID), `{"project_id": 999999}`, "project_id"},
			{"update to another account's project", "POST", credPath(tokend.UserID(f.dev), c.ID), fmt.Sprintf(`{"project_id": %d}`, pB.ID), "project_id"},
			{"update to a deleted project", "POST", credPath(tokend.UserID(f.dev), c.ID), fmt.Sprintf(`{"project_id": %d}`, gone.ID), "project_id"},
			{"update to project_id 0", "POST", credPath(tokend.UserID(f.dev), c.ID), `{"project_id": 0}`, "project_id"},
			{"update to credentials_id 0", "POST", credPath(tokend.UserID(f.dev), c.ID), `{"credentials_id": 0}`, "credentials_id"},
			{"update into another account", "POST", credPath(tokend.UserID(f.dev), c.ID), fmt.Sprintf(`{"account_id": %d}`, f.b.Account.ID), "account_id"},
			{"update to another user", "POST", credPath(tokend.UserID(f.dev), c.ID), fmt.Sprintf(`{"user_id": %d}`, f.a.User.ID), "user_id"},
			{"update to state 3", "POST", credPath(tokend.UserID(f.dev), c.ID), `{"state": 3}`, "state"},
			{"list with a bad state", "GET", credsPath(tokend.UserID(f.dev)) + "?state=9", "", "state"},
			{"list with a bad limit", "GET", credsPath(tokend.UserID(f.dev)) + "?limit=many", "", "limit"},
			{"list with a negative offset", "GET", credsPath(tokend.UserID(f.dev)) + "?offset=-1", "", "offset"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, bearer(f.devTok), tt.body)
				wantField(t, r, http.StatusBadRequest, tt.field)
				if !strings.Contains(r.Body.Status.UserMessage, tt.field) && tt.field != "body" {
					t.Errorf("got message %q, want it to name %s", r.Body.Status.UserMessage, tt.field)
				}
			})
		}

		t.Run("nothing was written", func(t *testing.T) {
			ids, _ := listCreds(t, e, f.devTok, tokend.UserID(f.dev), "?state=all")
			if !slices.Equal(ids, []int64{c.ID}) {
				t.Errorf("got %v, want only [%d]", ids, c.ID)
			}
			wantCred(t, "after refused updates", getCred(t, e, f.devTok, tokend.UserID(f.dev), c.ID), f.acct, f.dev, f.p1, 1, 1)
		})

		t.Run("restoring onto a deleted project", func(t *testing.T) {
			p := createProject(t, e, f.a.Token, tokend.AccountID(f.acct), "Short-lived")
			c := createCred(t, e, f.devTok, tokend.UserID(f.dev), fmt.Sprintf(`{"project_id": %d, "credentials_id": 1}`, p.ID))
			if code, _ := e.doNoBody("DELETE", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok)); code != http.StatusNoContent {
				t.Fatalf("DELETE: got %d, want 204", code)
			}
			if code, _ := e.doNoBody("DELETE", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", f.acct, p.ID), bearer(f.a.Token)); code != http.StatusOK {
				t.Fatalf("delete project: got %d, want 200", code)
			}
			wantField(t, e.do("POST", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok), `{"state": 1}`), http.StatusBadRequest, "project_id")
			// Nor does a deleted association move to a project outside the account.
			for _, body := range []string{fmt.Sprintf(`{"project_id": %d}`, pB.ID), `{"project_id": 999999}`} {
				wantField(t, e.do("POST", credPath(tokend.UserID(f.dev), c.ID), bearer(f.devTok), body), http.StatusBadRequest, "project_id")
			}
			// A deleted association on a deleted project is still readable, project and all.
			got := getCred(t, e, f.devTok, tokend.UserID(f.dev), c.ID)
			if got.State != 2 || got.Project == nil || got.Project.State != 2 {
				t.Errorf("got state %d project %+v, want state 2 and the project with state 2", got.State, got.Project)
			}
		})
	})
}

// Writing one's credentials takes write access to credentials in the project: dbt's "Develop"
// permission. Reading one's own associations takes only the PAT.
func TestUserCredentialPermissions(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newCredFixture(t, e)
		ctx := context.Background()
		now := time.Now()
		g := &tokend.Group{AccountID: tokend.AccountID(f.acct), Name: "Harvest developers", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetGroupPermissions(ctx, tokend.AccountID(f.acct), g.ID, []perm.Grant{{Set: perm.Developer, ProjectID: f.p1.ID}}); err != nil {
			t.Fatal(err)
		}
		scoped := addUser(t, e, f.a.Token, tokend.AccountID(f.acct), `{"email": "stilgar@example.com", "license_type": "developer"}`).ID
		setGroups(t, e, tokend.AccountID(f.acct), tokend.UserID(scoped), g.ID)
		scopedTok := mintPAT(t, e, tokend.AccountID(f.acct), tokend.UserID(scoped))
		plain := addUser(t, e, f.a.Token, tokend.AccountID(f.acct), `{"email": "jamis@example.com", "license_type": "developer"}`).ID
		plainTok := mintPAT(t, e, tokend.AccountID(f.acct), tokend.UserID(plain))
		reader := addUser(t, e, f.a.Token, tokend.AccountID(f.acct), `{"email": "harah@example.com", "license_type": "read_only"}`).ID
		setGroups(t, e, tokend.AccountID(f.acct), tokend.UserID(reader), tokend.GroupID(groupID(t, e, tokend.AccountID(f.acct), tokend.GroupMember)))
		readerTok := mintPAT(t, e, tokend.AccountID(f.acct), tokend.UserID(reader))

		on := func(p projectBody) string { return fmt.Sprintf(`{"project_id": %d, "credentials_id": 1}`, p.ID) }
		scopedCred := createCred(t, e, scopedTok, tokend.UserID(scoped), on(f.p1))

		tests := []struct {
			name         string
			tok          string
			method, path string
			body         string
			want         int
		}{
			{"developer on their project", scopedTok, "POST", credsPath(tokend.UserID(scoped)), on(f.p1), http.StatusCreated},
			{"developer on another project", scopedTok, "POST", credsPath(tokend.UserID(scoped)), on(f.p2), http.StatusForbidden},
			{"developer moving to another project", scopedTok, "POST", credPath(tokend.UserID(scoped), scopedCred.ID), fmt.Sprintf(`{"project_id": %d}`, f.p2.ID), http.StatusForbidden},
			// Without a grant on it, a missing project is refused like any other: ids reveal nothing.
			{"developer on a missing project", scopedTok, "POST", credsPath(tokend.UserID(scoped)), `{"project_id": 999999, "credentials_id": 1}`, http.StatusForbidden},
			{"developer without groups", plainTok, "POST", credsPath(tokend.UserID(plain)), on(f.p1), http.StatusForbidden},
			{"developer without groups lists their own", plainTok, "GET", credsPath(tokend.UserID(plain)), "", http.StatusOK},
			{"read-only license in the Member group", readerTok, "POST", credsPath(tokend.UserID(reader)), on(f.p1), http.StatusForbidden},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, bearer(tt.tok), tt.body)
				if r.Code != tt.want {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
				if tt.want == http.StatusForbidden && !strings.Contains(r.Body.Status.UserMessage, "credentials") {
					t.Errorf("got message %q, want it to name the credentials permission", r.Body.Status.UserMessage)
				}
			})
		}

		t.Run("losing the project hides it, not the association", func(t *testing.T) {
			r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/assign-groups/", f.acct), bearer(f.a.Token),
				fmt.Sprintf(`{"user_id": %d, "desired_group_ids": []}`, scoped))
			if r.Code != http.StatusOK {
				t.Fatalf("assign-groups: got %d, want 200: %s", r.Code, r.Raw)
			}
			r = e.do("GET", credPath(tokend.UserID(scoped), scopedCred.ID), bearer(scopedTok), "")
			var got credBody
			r.data(t, &got)
			if r.Code != http.StatusOK || got.ID != scopedCred.ID || got.Project != nil {
				t.Errorf("got %d id %d project %+v, want 200 id %d and a null project", r.Code, got.ID, got.Project, scopedCred.ID)
			}
			if !strings.Contains(string(r.Raw), `"project":null`) {
				t.Errorf("got %s, want \"project\":null", r.Raw)
			}
			if code, _ := e.doNoBody("DELETE", credPath(tokend.UserID(scoped), scopedCred.ID), bearer(scopedTok)); code != http.StatusForbidden {
				t.Errorf("DELETE without access: got %d, want 403", code)
			}
		})
	})
}

func TestUserCredentialPaging(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newCredFixture(t, e)
		var all []int64
		for i := range 5 {
			c := createCred(t, e, f.devTok, tokend.UserID(f.dev), fmt.Sprintf(`{"project_id": %d, "credentials_id": %d}`, f.p1.ID, i+1))
			all = append(all, c.ID)
		}
		if code, _ := e.doNoBody("DELETE", credPath(tokend.UserID(f.dev), all[1]), bearer(f.devTok)); code != http.StatusNoContent {
			t.Fatalf("DELETE: got %d, want 204", code)
		}
		active := slices.Delete(slices.Clone(all), 1, 2)

		tests := []struct {
			query       string
			want        []int64
			total       int
			limit, offs float64
			state       any
		}{
			{"?limit=2", active[:2], 4, 2, 0, float64(1)},
			{"?limit=2&offset=2", active[2:], 4, 2, 2, float64(1)},
			{"?limit=2&offset=4", []int64{}, 4, 2, 4, float64(1)},
			{"?state=all&limit=3&offset=1", all[1:4], 5, 3, 1, "all"},
			{"?state=2", all[1:2], 1, 100, 0, float64(2)},
			{"?limit=1000", active, 4, 100, 0, float64(1)},
			{"", active, 4, 100, 0, float64(1)},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				ids, extra := listCreds(t, e, f.devTok, tokend.UserID(f.dev), tt.query)
				if !slices.Equal(ids, tt.want) {
					t.Errorf("got ids %v, want %v", ids, tt.want)
				}
				if extra.Pagination.Count != len(tt.want) || extra.Pagination.TotalCount != tt.total {
					t.Errorf("got pagination %+v, want count %d, total %d", extra.Pagination, len(tt.want), tt.total)
				}
				if extra.Filters["limit"] != tt.limit || extra.Filters["offset"] != tt.offs || extra.Filters["state"] != tt.state {
					t.Errorf("got filters %v, want limit %v, offset %v, state %v", extra.Filters, tt.limit, tt.offs, tt.state)
				}
				if extra.OrderBy != "id" {
					t.Errorf("got order_by %q, want id", extra.OrderBy)
				}
			})
		}
	})
}
