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

// projectBody is the part of dbt's ProjectResponse the tests look at.
type projectBody struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	AccountID    int64  `json:"account_id"`
	Description  string `json:"description"`
	State        int    `json:"state"`
	ConnectionID *int64 `json:"connection_id"`
	Repository   any    `json:"repository"`
}

func createProject(t testing.TB, e *env, tok string, accountID tokend.AccountID, name string) projectBody {
	t.Helper()
	r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", accountID), bearer(tok), fmt.Sprintf(`{"name": %q}`, name))
	if r.Code != http.StatusCreated || r.Body.Status.Code != http.StatusCreated {
		t.Fatalf("create project: got %d (status.code %d), want 201: %s", r.Code, r.Body.Status.Code, r.Raw)
	}
	var p projectBody
	r.data(t, &p)
	return p
}

func listProjectIDs(t testing.TB, e *env, tok, path string) ([]int64, listExtra) {
	t.Helper()
	r := e.do("GET", path, bearer(tok), "")
	if r.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %s", path, r.Code, r.Raw)
	}
	var ps []projectBody
	r.data(t, &ps)
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	var extra listExtra
	if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
		t.Fatal(err)
	}
	return ids, extra
}

func TestProjectLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("Arrakis", "paul@example.com")
	a, tok := res.Account.ID, res.Token
	p := createProject(t, e, tok, a, "  Spice Harvest  ")
	path := fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, p.ID)
	if p.Name != "Spice Harvest" || p.AccountID != int64(a) || p.State != 1 || p.ConnectionID != nil || p.Repository != nil {
		t.Fatalf("got %+v, want an active project named \"Spice Harvest\" with null connection and repository", p)
	}

	t.Run("get", func(t *testing.T) {
		for _, pth := range []string{path, strings.TrimSuffix(path, "/")} {
			r := e.do("GET", pth, bearer(tok), "")
			var got projectBody
			r.data(t, &got)
			if r.Code != http.StatusOK || got != p {
				t.Errorf("GET %s: got %d %+v, want 200 %+v", pth, r.Code, got, p)
			}
		}
	})

	t.Run("update", func(t *testing.T) {
		r := e.do("POST", path, bearer(tok), `{"name": "Spice Export", "description": "off-world", "account_id": `+fmt.Sprint(a)+`}`)
		var got projectBody
		r.data(t, &got)
		if r.Code != http.StatusOK || got.Name != "Spice Export" || got.Description != "off-world" {
			t.Errorf("got %d %+v, want 200 with the new name and description", r.Code, got)
		}
	})

	t.Run("refused input", func(t *testing.T) {
		tests := []struct {
			name   string
			method string
			path   string
			body   string
			want   int
			field  string
		}{
			{"no name", "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), `{"description": "x"}`, http.StatusBadRequest, "name"},
			{"blank name", "POST", path, `{"name": "  "}`, http.StatusBadRequest, "name"},
			{"long name", "POST", path, `{"name": "` + strings.Repeat("é", 256) + `"}`, http.StatusBadRequest, "name"},
			{"other account_id", "POST", path, `{"name": "x", "account_id": 999}`, http.StatusBadRequest, "account_id"},
			{"created deleted", "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), `{"name": "x", "state": 2}`, http.StatusBadRequest, "state"},
			{"bad state", "POST", path, `{"state": 7}`, http.StatusBadRequest, "state"},
			{"not JSON", "POST", path, `{`, http.StatusBadRequest, "body"},
			{"missing project", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/999/", a), "", http.StatusNotFound, ""},
			{"non-numeric id", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/abc/", a), "", http.StatusNotFound, ""},
			{"bad state filter", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/?state=9", a), "", http.StatusBadRequest, "state"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, bearer(tok), tt.body)
				if r.Code != tt.want || r.Body.Status.Code != tt.want {
					t.Fatalf("got %d (status.code %d), want %d: %s", r.Code, r.Body.Status.Code, tt.want, r.Raw)
				}
				if tt.field != "" && r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
					t.Errorf("got developer_message %q, want it to name %s", r.Body.Status.DeveloperMessage, tt.field)
				}
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := e.do("DELETE", path, bearer(tok), "")
		var deleted projectBody
		r.data(t, &deleted)
		if r.Code != http.StatusOK || deleted.ID != p.ID || deleted.State != 2 {
			t.Fatalf("got %d with project %d state %d, want 200 with project %d state 2", r.Code, deleted.ID, deleted.State, p.ID)
		}
		if r := e.do("GET", path, bearer(tok), ""); r.Code != http.StatusNotFound || r.Body.Status.Code != http.StatusNotFound {
			t.Errorf("GET after DELETE: got %d (status.code %d), want 404", r.Code, r.Body.Status.Code)
		}
		if r := e.do("DELETE", path, bearer(tok), ""); r.Code != http.StatusNotFound {
			t.Errorf("second DELETE: got %d, want 404", r.Code)
		}
		list := fmt.Sprintf("/api/v3/accounts/%d/projects/", a)
		for _, tc := range []struct {
			query string
			want  []int64
		}{{"", []int64{}}, {"?state=1", []int64{}}, {"?state=2", []int64{p.ID}}, {"?state=deleted", []int64{p.ID}}, {"?state=all", []int64{p.ID}}} {
			if ids, _ := listProjectIDs(t, e, tok, list+tc.query); !slices.Equal(ids, tc.want) {
				t.Errorf("list%s: got %v, want %v", tc.query, ids, tc.want)
			}
		}
	})

	t.Run("restore", func(t *testing.T) {
		r := e.do("POST", path, bearer(tok), `{"state": 1}`)
		var got projectBody
		r.data(t, &got)
		if r.Code != http.StatusOK || got.State != 1 {
			t.Errorf("got %d state %d, want 200 state 1", r.Code, got.State)
		}
	})

	got := auditActions(t, e, a)
	for _, want := range []string{"project.create", "project.update", "project.delete"} {
		if !slices.Contains(got, want) {
			t.Errorf("got audit actions %v, want %s among them", got, want)
		}
	}
}

// A user whose only group grants developer on one project sees that project only.
func TestProjectScopedAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("Arrakis", "paul@example.com")
	a := res.Account.ID
	p := createProject(t, e, res.Token, a, "Sietch Tabr")
	q := createProject(t, e, res.Token, a, "Sietch Jacurutu")
	ctx := context.Background()
	now := time.Now()
	g := &tokend.Group{AccountID: a, Name: "Tabr developers", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetGroupPermissions(ctx, a, g.ID, []perm.Grant{{Set: perm.Developer, ProjectID: p.ID}}); err != nil {
		t.Fatal(err)
	}
	stilgar := addUser(t, e, res.Token, a, `{"email": "stilgar@example.com"}`)
	setGroups(t, e, a, tokend.UserID(stilgar.ID), g.ID)
	tok := mintPAT(t, e, a, tokend.UserID(stilgar.ID))

	ids, extra := listProjectIDs(t, e, tok, fmt.Sprintf("/api/v3/accounts/%d/projects/", a))
	if !slices.Equal(ids, []int64{p.ID}) || extra.Pagination.TotalCount != 1 {
		t.Errorf("got %v (total %d), want only [%d]", ids, extra.Pagination.TotalCount, p.ID)
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"read P", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, p.ID), "", http.StatusOK},
		{"read Q", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, q.ID), "", http.StatusForbidden},
		{"read a missing project", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/999/", a), "", http.StatusForbidden},
		{"update Q", "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, q.ID), `{"name": "x"}`, http.StatusForbidden},
		{"delete Q", "DELETE", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, q.ID), "", http.StatusForbidden},
		{"create", "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), `{"name": "x"}`, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, bearer(tok), tt.body)
			if r.Code != tt.want {
				t.Errorf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(r.Body.Status.UserMessage, "projects") {
				t.Errorf("got message %q, want it to name projects", r.Body.Status.UserMessage)
			}
		})
	}

	t.Run("no project read anywhere", func(t *testing.T) {
		// The store is changed behind the service's back, so a fresh token sees it.
		setGroups(t, e, a, tokend.UserID(stilgar.ID))
		r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), bearer(mintPAT(t, e, a, tokend.UserID(stilgar.ID))), "")
		if r.Code != http.StatusForbidden {
			t.Errorf("got %d, want 403: %s", r.Code, r.Raw)
		}
	})
}

// A token of account B reaches nothing of account A, whatever it holds in B.
func TestUsersAndProjectsOtherAccountForbidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("Arrakis", "paul@example.com")
	b := e.initAccount("Giedi Prime", "feyd@example.com")
	aid := a.Account.ID
	p := createProject(t, e, a.Token, aid, "Sietch Tabr")
	// Paul is in B too, as an owner there: his B token still gets nothing of A.
	paulInB := joinElsewhere(t, e, b.Token, b.Account.ID, `{"email": "paul@example.com"}`, a.User.ID, a.Token)
	setGroups(t, e, b.Account.ID, tokend.UserID(paulInB.ID), tokend.GroupID(groupID(t, e, b.Account.ID, "Owner")))
	routes := []struct{ method, path, body string }{
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/users/", aid), ""},
		{"GET", fmt.Sprintf("/api/v2/accounts/%d/users/", aid), ""},
		{"POST", fmt.Sprintf("/api/v3/accounts/%d/users/", aid), `{"email": "rabban@example.com"}`},
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", aid, a.User.ID), ""},
		{"GET", fmt.Sprintf("/api/v2/accounts/%d/users/%d/", aid, a.User.ID), ""},
		{"POST", fmt.Sprintf("/api/v2/accounts/%d/permissions/1/", aid), `{"license_type": "read_only", "state": 1}`},
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", aid), ""},
		{"POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", aid), `{"name": "x"}`},
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", aid, p.ID), ""},
		{"POST", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", aid, p.ID), `{"name": "x"}`},
		{"DELETE", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", aid, p.ID), ""},
	}
	for _, tok := range []struct{ name, tok string }{{"owner of B", b.Token}, {"Paul's PAT of B", mintPAT(t, e, b.Account.ID, a.User.ID)}} {
		for _, rt := range routes {
			t.Run(tok.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				r := e.do(rt.method, rt.path, bearer(tok.tok), rt.body)
				if r.Code != http.StatusForbidden || r.Body.Status.Code != http.StatusForbidden {
					t.Errorf("got %d (status.code %d), want 403: %s", r.Code, r.Body.Status.Code, r.Raw)
				}
			})
		}
	}
	// A project of A looked up through B's path is not found.
	r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", b.Account.ID, p.ID), bearer(b.Token), "")
	if r.Code != http.StatusNotFound {
		t.Errorf("A's project under B's path: got %d, want 404", r.Code)
	}
}

func TestProjectPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("Arrakis", "paul@example.com")
	a := res.Account.ID
	ctx := context.Background()
	now := time.Now()
	var all []int64
	for i := range 120 {
		p := &tokend.Project{AccountID: a, Name: fmt.Sprintf("Sietch %03d", i), State: tokend.StateActive,
			CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		all = append(all, int64(p.ID))
	}
	list := fmt.Sprintf("/api/v3/accounts/%d/projects/", a)
	tests := []struct {
		query         string
		want          []int64
		limit, offset float64
	}{
		{"", all[:100], 100, 0},
		{"?limit=500", all[:100], 100, 0},
		{"?limit=0", all[:100], 100, 0},
		{"?limit=10", all[:10], 10, 0},
		{"?limit=10&offset=115", all[115:], 10, 115},
		{"?offset=100", all[100:], 100, 100},
		{"?offset=500", []int64{}, 100, 500},
	}
	for _, tt := range tests {
		t.Run("query "+tt.query, func(t *testing.T) {
			ids, extra := listProjectIDs(t, e, res.Token, list+tt.query)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %d ids %v, want %d", len(ids), ids, len(tt.want))
			}
			if extra.Pagination.Count != len(tt.want) || extra.Pagination.TotalCount != 120 {
				t.Errorf("got pagination %+v, want count %d total_count 120", extra.Pagination, len(tt.want))
			}
			if extra.Filters["limit"] != tt.limit || extra.Filters["offset"] != tt.offset || extra.OrderBy != "id" {
				t.Errorf("got filters %v order_by %q, want limit %v offset %v order_by id", extra.Filters, extra.OrderBy, tt.limit, tt.offset)
			}
		})
	}
	for _, q := range []string{"?limit=abc", "?limit=-1", "?offset=x"} {
		t.Run("bad "+q, func(t *testing.T) {
			r := e.do("GET", list+q, bearer(res.Token), "")
			field := strings.TrimPrefix(strings.SplitN(q, "=", 2)[0], "?")
			if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.UserMessage, `"`+field+`"`) {
				t.Errorf("got %d %q, want 400 naming %s", r.Code, r.Body.Status.UserMessage, field)
			}
		})
	}
}

// A plain list is answered from memory, with each project's JSON kept from one request to the
// next (encodedCache); a rename, a deletion and a restore show on the very next list, with the
// cache on and off.
func TestProjectListFollowsChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		mod  func(*tokend.Options)
	}{
		{"cached", nil},
		{"uncached", func(o *tokend.Options) { o.CacheSize = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachStoreWith(t, tc.mod, func(t *testing.T, e *env) {
				res := e.initAccount("Arrakis", "paul@example.com")
				a, tok := res.Account.ID, res.Token
				one := createProject(t, e, tok, a, "One")
				createProject(t, e, tok, a, "Two")
				list := fmt.Sprintf("/api/v3/accounts/%d/projects/", a)
				names := func() []string {
					t.Helper()
					var ps []projectBody
					e.do("GET", list, bearer(tok), "").data(t, &ps)
					out := make([]string, len(ps))
					for i, p := range ps {
						out[i] = p.Name
					}
					return out
				}
				path := fmt.Sprintf("%s%d/", list, one.ID)
				for _, step := range []struct {
					method, body string
					want         []string
				}{
					{"", "", []string{"One", "Two"}},
					{"POST", `{"name": "One, renamed"}`, []string{"One, renamed", "Two"}},
					{"POST", `{"name": "One, again"}`, []string{"One, again", "Two"}},
					{"DELETE", "", []string{"Two"}},
					{"POST", `{"state": 1}`, []string{"One, again", "Two"}},
				} {
					if step.method != "" {
						if r := e.do(step.method, path, bearer(tok), step.body); r.Code != http.StatusOK {
							t.Fatalf("%s %s: got %d, want 200: %s", step.method, step.body, r.Code, r.Raw)
						}
					}
					for range 2 {
						if got := names(); !slices.Equal(got, step.want) {
							t.Errorf("after %s %s: got %q, want %q", step.method, step.body, got, step.want)
						}
					}
				}
			})
		})
	}
}
