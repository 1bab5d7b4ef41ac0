package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"tokend"
	"tokend/perm"
)

type serviceTokenBody struct {
	ID                      *int64  `json:"id"`
	AccountID               int64   `json:"account_id"`
	UID                     string  `json:"uid"`
	Name                    string  `json:"name"`
	State                   int     `json:"state"`
	TokenString             *string `json:"token_string"`
	LegacyFormat            bool    `json:"legacy_format"`
	ServiceTokenPermissions []struct {
		PermissionSet string `json:"permission_set"`
	} `json:"service_token_permissions"`
}

type stPermissionBody struct {
	ID                            int64    `json:"id"`
	AccountID                     int64    `json:"account_id"`
	ServiceTokenID                int64    `json:"service_token_id"`
	ProjectID                     *int64   `json:"project_id"`
	AllProjects                   bool     `json:"all_projects"`
	PermissionSet                 string   `json:"permission_set"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
}

func stPath(accountID tokend.AccountID, rest string) string {
	return fmt.Sprintf("/api/v3/accounts/%d/service-tokens/%s", accountID, rest)
}

// TestServiceTokenTerraformSequence replays what the dbt Cloud Terraform provider does for its
// service-token resource: create, set permissions (120 rows), read, read permissions page by
// page (offset only, as its paginator does), update by POSTing the object back, delete, and
// read after delete.
func TestServiceTokenTerraformSequence(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Terraformed", "tf@example.com")
		acct := a.Account.ID
		tf := "Token " + a.Token // the provider sends "Authorization: Token …"

		var projects []int64
		for i := range 30 {
			r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), tf, fmt.Sprintf(`{"name": "p%d"}`, i))
			var p struct {
				ID int64 `json:"id"`
			}
			r.data(t, &p)
			if p.ID == 0 {
				t.Fatalf("create project: got %d: %s", r.Code, r.Raw)
			}
			projects = append(projects, p.ID)
		}

		// Create.
		r := e.do("POST", stPath(acct, ""), tf, fmt.Sprintf(`{"account_id": %d, "name": "terraform", "state": 1}`, acct))
		if r.Code/100 != 2 {
			t.Fatalf("create: got %d: %s", r.Code, r.Raw)
		}
		var created serviceTokenBody
		r.data(t, &created)
		if created.ID == nil || created.TokenString == nil || !strings.HasPrefix(*created.TokenString, "dbtc_") {
			t.Fatalf("create: got id %v token_string %v, want both set", created.ID, created.TokenString)
		}
		id := *created.ID
		svc := *created.TokenString

		// Set permissions: 120 rows, bare array, as the provider marshals them.
		var grants []map[string]any
		for _, set := range []string{"developer", "job_admin", "git_admin", "analyst"} {
			for _, p := range projects {
				grants = append(grants, map[string]any{"account_id": acct, "service_token_id": id,
					"project_id": p, "all_projects": false, "state": 1, "permission_set": set})
			}
		}
		body, _ := json.Marshal(grants)
		r = e.do("POST", stPath(acct, fmt.Sprintf("%d/permissions/", id)), tf, string(body))
		var set []stPermissionBody
		r.data(t, &set)
		if r.Code != http.StatusOK || len(set) != 120 {
			t.Fatalf("set permissions: got %d with %d rows, want 200 with 120", r.Code, len(set))
		}

		// Read.
		r = e.do("GET", stPath(acct, fmt.Sprintf("%d/", id)), tf, "")
		var read serviceTokenBody
		r.data(t, &read)
		if read.State != 1 || read.Name != "terraform" || read.TokenString != nil || read.UID != created.UID {
			t.Errorf("read: got %+v, want the active token without its string", read)
		}

		// Read permissions the way the provider's paginator does.
		url := stPath(acct, fmt.Sprintf("%d/permissions/", id))
		var all []stPermissionBody
		for page := 0; page < 10; page++ {
			u := url
			if len(all) > 0 {
				u = fmt.Sprintf("%s?offset=%d", url, len(all))
			}
			r := e.do("GET", u, tf, "")
			var rows []stPermissionBody
			r.data(t, &rows)
			var extra listExtra
			if err := json.Unmarshal(r.Body.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			if extra.Pagination.TotalCount != 120 || extra.Pagination.Count != len(rows) {
				t.Fatalf("page %d: got pagination %+v with %d rows, want total 120 and count = rows", page, extra.Pagination, len(rows))
			}
			if len(rows) == 0 {
				break
			}
			all = append(all, rows...)
			if len(all) >= extra.Pagination.TotalCount {
				break
			}
		}
		if len(all) != 120 {
			t.Fatalf("paged read: got %d rows, want 120", len(all))
		}
		for _, p := range all {
			if p.ServiceTokenID != id || p.AccountID != int64(acct) || p.AllProjects || p.ProjectID == nil {
				t.Fatalf("got row %+v, want a project-scoped grant of token %d", p, id)
			}
		}
		// developer takes environment categories: absent means all.
		if i := slices.IndexFunc(all, func(p stPermissionBody) bool { return p.PermissionSet == "developer" }); i < 0 ||
			!slices.Equal(all[i].WritableEnvironmentCategories, []string{"all"}) {
			t.Errorf("developer grant: got categories %v, want [all]", all[i].WritableEnvironmentCategories)
		}

		// The token works, and its grants apply: it can read a project it was granted.
		if r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", acct, projects[0]), "Bearer "+svc, ""); r.Code != http.StatusOK {
			t.Errorf("service token on a granted project: got %d, want 200", r.Code)
		}

		// Update: the provider POSTs the object back.
		r = e.do("POST", stPath(acct, fmt.Sprintf("%d/", id)), tf,
			fmt.Sprintf(`{"id": %d, "account_id": %d, "uid": %q, "name": "terraform-renamed", "state": 1}`, id, acct, created.UID))
		if r.Code != http.StatusOK {
			t.Fatalf("update: got %d: %s", r.Code, r.Raw)
		}
		r = e.do("PUT", stPath(acct, fmt.Sprintf("%d/", id)), tf, `{"name": "terraform-put"}`)
		var put serviceTokenBody
		r.data(t, &put)
		if r.Code != http.StatusOK || put.Name != "terraform-put" {
			t.Errorf("PUT: got %d %q, want 200 terraform-put", r.Code, put.Name)
		}

		// Delete, then read after delete: still there, with state 2; the token is dead.
		if code, _ := e.doNoBody("DELETE", stPath(acct, fmt.Sprintf("%d/", id)), tf); code != http.StatusNoContent {
			t.Fatalf("delete: got %d, want 204", code)
		}
		r = e.do("GET", stPath(acct, fmt.Sprintf("%d/", id)), tf, "")
		var gone serviceTokenBody
		r.data(t, &gone)
		if r.Code != http.StatusOK || gone.State != 2 {
			t.Errorf("read after delete: got %d state %d, want 200 state 2", r.Code, gone.State)
		}
		if r := e.do("GET", "/api/v3/accounts/", "Bearer "+svc, ""); r.Code != http.StatusUnauthorized {
			t.Errorf("deleted service token: got %d, want 401", r.Code)
		}
		r = e.do("GET", stPath(acct, "?state=1"), tf, "")
		var active []serviceTokenBody
		r.data(t, &active)
		if len(active) != 0 {
			t.Errorf("state=1 list: got %d tokens, want 0", len(active))
		}
	})
}

func TestServiceTokenPlanRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	allowed := map[string][]string{
		"developer":            {"semantic_layer_only"},
		"starter":              {"semantic_layer_only"},
		"team":                 {"account_admin", "billing_admin", "job_admin", "metadata_only", "member", "readonly", "semantic_layer_only", "owner"},
		"enterprise":           nil, // every set
		"enterprise_plus_2025": nil,
	}
	for plan, sets := range allowed {
		t.Run(plan, func(t *testing.T) {
			p, err := perm.ParsePlan(plan)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.svc.Init(context.Background(), tokend.InitParams{AccountName: "plan " + plan, Plan: p,
				Email: plan + "@example.com", Password: "a long enough password"})
			if err != nil {
				t.Fatal(err)
			}
			for _, set := range perm.Sets() {
				want := sets == nil || slices.Contains(sets, string(set))
				body := fmt.Sprintf(`{"name": "t", "permission_grants": [{"permission_set": %q}]}`, set)
				r := e.do("POST", stPath(res.Account.ID, ""), bearer(res.Token), body)
				switch {
				case want && r.Code != http.StatusCreated:
					t.Errorf("%s on %s: got %d, want 201: %s", set, plan, r.Code, r.Raw)
				case !want && r.Code != http.StatusBadRequest:
					t.Errorf("%s on %s: got %d, want 400", set, plan, r.Code)
				case !want:
					msg := r.Body.Status.UserMessage
					if !strings.Contains(msg, string(set)) || !strings.Contains(msg, p.Family()) {
						t.Errorf("%s on %s: got message %q, want it to name the set and the plan", set, plan, msg)
					}
				}
			}
		})
	}
}

func TestServiceTokenWhoMayManage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		acct := a.Account.ID
		sec := addUser(t, e, a.Token, acct, `{"email": "sec@example.com", "license_type": "developer"}`)
		dev := addUser(t, e, a.Token, acct, `{"email": "dev@example.com", "license_type": "developer"}`)
		ro := addUser(t, e, a.Token, acct, `{"email": "ro@example.com", "license_type": "read_only"}`)
		r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/groups/", acct), bearer(a.Token), `{"name": "Security", "assign_by_default": false}`)
		var g struct {
			ID int64 `json:"id"`
		}
		r.data(t, &g)
		e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/group-permissions/%d/", acct, g.ID), bearer(a.Token),
			`[{"permission_set": "security_admin", "all_projects": true}]`)
		setGroups(t, e, acct, tokend.UserID(sec.ID), tokend.GroupID(g.ID))
		setGroups(t, e, acct, tokend.UserID(ro.ID), tokend.GroupID(groupID(t, e, acct, tokend.GroupOwner)))
		adminSvc := mintService(t, e, acct, perm.AccountAdmin)
		jobSvc := mintService(t, e, acct, perm.JobAdmin)

		create := `{"name": "x", "permission_grants": [{"permission_set": "job_admin"}]}`
		for _, tc := range []struct {
			name      string
			tok       string
			wantRead  int
			wantWrite int
		}{
			{"owner (developer, account_admin)", a.Token, http.StatusOK, http.StatusCreated},
			{"account_admin service token", adminSvc, http.StatusOK, http.StatusCreated},
			{"security admin reads only", mintPAT(t, e, acct, tokend.UserID(sec.ID)), http.StatusOK, http.StatusForbidden},
			{"developer without admin", mintPAT(t, e, acct, tokend.UserID(dev.ID)), http.StatusForbidden, http.StatusForbidden},
			{"read-only license in the Owner group", mintPAT(t, e, acct, tokend.UserID(ro.ID)), http.StatusOK, http.StatusForbidden},
			{"job_admin service token", jobSvc, http.StatusForbidden, http.StatusForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := e.do("GET", stPath(acct, ""), bearer(tc.tok), ""); r.Code != tc.wantRead {
					t.Errorf("list: got %d, want %d", r.Code, tc.wantRead)
				}
				if r := e.do("POST", stPath(acct, ""), bearer(tc.tok), create); r.Code != tc.wantWrite {
					t.Errorf("create: got %d, want %d: %s", r.Code, tc.wantWrite, r.Raw)
				}
			})
		}
	})
}

func TestServiceTokenOutlivesCreator(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		acct := a.Account.ID
		admin := addUser(t, e, a.Token, acct, `{"email": "admin@example.com", "license_type": "developer"}`)
		setGroups(t, e, acct, tokend.UserID(admin.ID), tokend.GroupID(groupID(t, e, acct, tokend.GroupOwner)))
		adminTok := mintPAT(t, e, acct, tokend.UserID(admin.ID))
		r := e.do("POST", stPath(acct, ""), bearer(adminTok), `{"name": "ci", "permission_grants": [{"permission_set": "account_admin"}]}`)
		var st serviceTokenBody
		r.data(t, &st)
		if st.TokenString == nil {
			t.Fatalf("create: got %d: %s", r.Code, r.Raw)
		}
		// The creator leaves the account.
		m, err := e.store.Membership(context.Background(), acct, tokend.UserID(admin.ID))
		if err != nil {
			t.Fatal(err)
		}
		r = e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", acct, m.ID), bearer(a.Token), `{"state": 2}`)
		if r.Code != http.StatusOK {
			t.Fatalf("remove creator: got %d: %s", r.Code, r.Raw)
		}
		if r := e.do("GET", "/api/v3/whoami/", bearer(adminTok), ""); r.Code != http.StatusUnauthorized {
			t.Errorf("creator's PAT after leaving: got %d, want 401", r.Code)
		}
		if r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/", acct), bearer(*st.TokenString), ""); r.Code != http.StatusOK {
			t.Errorf("service token after its creator left: got %d, want 200", r.Code)
		}
	})
}

func TestServiceTokenPermissionsApplyAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("A", "owner@example.com")
	acct := a.Account.ID
	r := e.do("POST", stPath(acct, ""), bearer(a.Token), `{"name": "ci", "permission_grants": [{"permission_set": "account_admin"}]}`)
	var st serviceTokenBody
	r.data(t, &st)
	svc := *st.TokenString
	rename := func() int {
		return e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", acct), bearer(svc), `{"name": "renamed"}`).Code
	}
	if got := rename(); got != http.StatusOK {
		t.Fatalf("as account_admin: got %d, want 200", got)
	}
	r = e.do("POST", stPath(acct, fmt.Sprintf("%d/permissions/", *st.ID)), bearer(a.Token), `[{"permission_set": "job_viewer", "all_projects": true}]`)
	if r.Code != http.StatusOK {
		t.Fatalf("narrow: got %d: %s", r.Code, r.Raw)
	}
	if got := rename(); got != http.StatusForbidden {
		t.Errorf("after narrowing to job_viewer: got %d, want 403 on the very next request", got)
	}
}

func TestServiceTokenBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("A", "owner@example.com")
	b := e.initAccount("B", "b@example.com")
	r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", b.Account.ID), bearer(b.Token), `{"name": "theirs"}`)
	var bp struct {
		ID int64 `json:"id"`
	}
	r.data(t, &bp)
	acct := a.Account.ID
	for _, tc := range []struct {
		name, body, field string
	}{
		{"no name", `{"permission_grants": []}`, "name"},
		{"unknown set", `{"name": "x", "permission_grants": [{"permission_set": "wizard"}]}`, "permission_set"},
		{"another account's project", fmt.Sprintf(`{"name": "x", "permission_grants": [{"permission_set": "developer", "project_id": %d}]}`, bp.ID), "project_id"},
		{"bad category", `{"name": "x", "permission_grants": [{"permission_set": "developer", "writable_environment_categories": ["moon"]}]}`, "writable_environment_categories"},
		{"wrong type", `{"name": 7}`, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", stPath(acct, ""), bearer(a.Token), tc.body)
			if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.DeveloperMessage, tc.field) {
				t.Errorf("got %d %q, want 400 naming %s", r.Code, r.Body.Status.DeveloperMessage, tc.field)
			}
		})
	}
	if r := e.do("GET", stPath(b.Account.ID, ""), bearer(a.Token), ""); r.Code != http.StatusForbidden {
		t.Errorf("another account's list: got %d, want 403", r.Code)
	}
	if r := e.do("GET", stPath(acct, "999999/"), bearer(a.Token), ""); r.Code != http.StatusNotFound || r.Body.Status.Code != 404 {
		t.Errorf("missing token: got %d, want 404", r.Code)
	}
}
