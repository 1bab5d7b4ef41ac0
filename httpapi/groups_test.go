package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/secret"
)

// groupOut is dbt's GroupResponse as a client reads it.
type groupOut struct {
	ID               int64      `json:"id"`
	AccountID        int64      `json:"account_id"`
	Name             string     `json:"name"`
	State            int        `json:"state"`
	AssignByDefault  bool       `json:"assign_by_default"`
	SSOMappingGroups []string   `json:"sso_mapping_groups"`
	CreatedAt        *string    `json:"created_at"`
	UpdatedAt        *string    `json:"updated_at"`
	GroupPermissions []grantOut `json:"group_permissions"`
	MemberCount      int        `json:"member_count"`
	SCIMManaged      bool       `json:"scim_managed"`
}

// grantOut is dbt's GroupPermissionResponse.
type grantOut struct {
	ID                            int64    `json:"id"`
	AccountID                     int64    `json:"account_id"`
	GroupID                       int64    `json:"group_id"`
	ProjectID                     *int64   `json:"project_id"`
	AllProjects                   bool     `json:"all_projects"`
	PermissionSet                 string   `json:"permission_set"`
	State                         int      `json:"state"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
	CreatedAt                     *string  `json:"created_at"`
	UpdatedAt                     *string  `json:"updated_at"`
}

// groupsFixture is an account with its owner, plus the ids of the default groups.
type groupsFixture struct {
	*tokend.InitResult
	owner, member, everyone int64
}

func newGroupsFixture(t testing.TB, e *env, name, email string) groupsFixture {
	t.Helper()
	f := groupsFixture{InitResult: e.initAccount(name, email)}
	r := e.do("GET", f.groupsPath(""), bearer(f.Token), "")
	if r.Code != http.StatusOK {
		t.Fatalf("list groups: got %d, want 200: %s", r.Code, r.Raw)
	}
	var gs []groupOut
	r.data(t, &gs)
	for _, g := range gs {
		switch g.Name {
		case tokend.GroupOwner:
			f.owner = g.ID
		case tokend.GroupMember:
			f.member = g.ID
		case tokend.GroupEveryone:
			f.everyone = g.ID
		}
	}
	if f.owner == 0 || f.member == 0 || f.everyone == 0 {
		t.Fatalf("got groups %+v, want Owner, Member and Everyone", gs)
	}
	return f
}

func (f groupsFixture) groupsPath(rest string) string {
	return fmt.Sprintf("/api/v3/accounts/%d/groups/%s", f.Account.ID, rest)
}

func (f groupsFixture) permissionsPath(groupID tokend.GroupID) string {
	return fmt.Sprintf("/api/v3/accounts/%d/group-permissions/%d/", f.Account.ID, groupID)
}

func (f groupsFixture) assignPath() string {
	return fmt.Sprintf("/api/v3/accounts/%d/assign-groups/", f.Account.ID)
}

func (f groupsFixture) renamePath() string {
	return fmt.Sprintf("/api/v2/accounts/%d/", f.Account.ID)
}

// addGroupsMember adds a user to the account, straight through the store, with a license and no
// groups, and returns the user's id and a PAT.
func addGroupsMember(t testing.TB, e *env, accountID tokend.AccountID, email string, license perm.License) (int64, string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &tokend.User{Email: email, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	m := &tokend.Membership{AccountID: accountID, UserID: u.ID, License: license, State: tokend.StateActive,
		CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateMembership(ctx, m); err != nil {
		t.Fatal(err)
	}
	tok := mustGenerate(t, secret.PAT)
	parsed, err := secret.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	h := secret.Hash(tok)
	if err := e.store.CreateToken(ctx, &tokend.Token{Kind: tokend.KindPAT, AccountID: accountID, UserID: u.ID,
		CreatedBy: u.ID, UID: parsed.UID, Name: "test", Hash: h[:], State: tokend.StateActive,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return int64(u.ID), tok
}

func addGroupsProject(t testing.TB, e *env, accountID tokend.AccountID) int64 {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := &tokend.Project{AccountID: accountID, Name: "Analytics", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return int64(p.ID)
}

// mustGroupCall sends a request that must answer 200 and decodes its data into v (when not nil).
func mustGroupCall(t testing.TB, e *env, method, path, tok, body string, v any) *response {
	t.Helper()
	r := e.do(method, path, bearer(tok), body)
	if r.Code != http.StatusOK {
		t.Fatalf("%s %s: got %d, want 200: %s", method, path, r.Code, r.Raw)
	}
	if v != nil {
		r.data(t, v)
	}
	return r
}

func wantField(t testing.TB, r *response, code int, field string) {
	t.Helper()
	if r.Code != code || r.Body.Status.Code != code {
		t.Fatalf("got %d (status.code %d), want %d: %s", r.Code, r.Body.Status.Code, code, r.Raw)
	}
	if field != "" {
		if want := "invalid field: " + field; r.Body.Status.DeveloperMessage != want {
			t.Errorf("got developer_message %q, want %q (%s)", r.Body.Status.DeveloperMessage, want, r.Body.Status.UserMessage)
		}
	}
}

func idsOfGroups(gs []groupOut) []int64 {
	out := make([]int64, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func TestGroupCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")

	var created groupOut
	r := mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, fmt.Sprintf(`{"account_id": %d, "name": "  Analysts ",
		"assign_by_default": false, "sso_mapping_groups": ["okta-analysts", " okta-analysts "], "state": 1}`, f.Account.ID), &created)

	t.Run("create answers dbt's GroupResponse", func(t *testing.T) {
		var fields map[string]json.RawMessage
		r.data(t, &fields)
		var keys []string
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"account_id", "assign_by_default", "created_at", "group_permissions", "id", "member_count",
			"name", "scim_managed", "sso_mapping_groups", "state", "updated_at"}
		if !slices.Equal(keys, want) {
			t.Errorf("got fields %v, want %v", keys, want)
		}
		if string(fields["group_permissions"]) != "[]" {
			t.Errorf("got group_permissions %s, want []", fields["group_permissions"])
		}
		if created.ID <= 0 || created.AccountID != int64(f.Account.ID) || created.Name != "Analysts" || created.State != 1 ||
			created.AssignByDefault || created.MemberCount != 0 || created.SCIMManaged {
			t.Errorf("got %+v, want active group \"Analysts\" of account %d with no members", created, f.Account.ID)
		}
		if !slices.Equal(created.SSOMappingGroups, []string{"okta-analysts"}) {
			t.Errorf("got sso_mapping_groups %q, want [okta-analysts] (trimmed, no repeats)", created.SSOMappingGroups)
		}
		if created.CreatedAt == nil || created.UpdatedAt == nil {
			t.Errorf("got created_at %v updated_at %v, want both set", created.CreatedAt, created.UpdatedAt)
		}
	})

	t.Run("get", func(t *testing.T) {
		for _, path := range []string{f.groupsPath(fmt.Sprint(created.ID)), f.groupsPath(fmt.Sprint(created.ID) + "/")} {
			var got groupOut
			mustGroupCall(t, e, "GET", path, f.Token, "", &got)
			if got.ID != created.ID || got.Name != "Analysts" || !slices.Equal(got.SSOMappingGroups, []string{"okta-analysts"}) {
				t.Errorf("GET %s: got %+v, want the created group", path, got)
			}
		}
	})

	t.Run("update leaves absent fields alone", func(t *testing.T) {
		var got groupOut
		mustGroupCall(t, e, "POST", f.groupsPath(fmt.Sprint(created.ID)+"/"), f.Token, `{"assign_by_default": true}`, &got)
		if got.Name != "Analysts" || !got.AssignByDefault || len(got.SSOMappingGroups) != 1 {
			t.Errorf("got %+v, want name and sso_mapping_groups unchanged, assign_by_default true", got)
		}
	})

	t.Run("update with the whole object as the Terraform provider sends it", func(t *testing.T) {
		body := fmt.Sprintf(`{"id": %d, "account_id": %d, "name": "Data Analysts", "state": 1, "assign_by_default": false,
			"sso_mapping_groups": null, "group_permissions": [{"id": 1, "permission_set": "x", "permission_level": ""}]}`,
			created.ID, f.Account.ID)
		var got groupOut
		mustGroupCall(t, e, "POST", f.groupsPath(fmt.Sprint(created.ID)+"/"), f.Token, body, &got)
		if got.Name != "Data Analysts" || got.AssignByDefault || len(got.SSOMappingGroups) != 0 || got.SSOMappingGroups == nil {
			t.Errorf("got %+v, want renamed, not by default, sso_mapping_groups []", got)
		}
		if len(got.GroupPermissions) != 0 {
			t.Errorf("got %d permissions, want 0: group_permissions in an update is ignored", len(got.GroupPermissions))
		}
	})

	t.Run("list by id with extra", func(t *testing.T) {
		r := mustGroupCall(t, e, "GET", f.groupsPath(""), f.Token, "", nil)
		var got []groupOut
		r.data(t, &got)
		if want := []int64{f.owner, f.member, f.everyone, created.ID}; !slices.Equal(idsOfGroups(got), want) {
			t.Errorf("got ids %v, want %v", idsOfGroups(got), want)
		}
		var extra listExtra
		if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
			t.Fatal(err)
		}
		if extra.Pagination.Count != 4 || extra.Pagination.TotalCount != 4 || extra.OrderBy != "id" {
			t.Errorf("got extra %+v, want count 4 total 4 order_by id", extra)
		}
		r = mustGroupCall(t, e, "GET", f.groupsPath("?limit=2&offset=1"), f.Token, "", nil)
		r.data(t, &got)
		if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
			t.Fatal(err)
		}
		if want := []int64{f.member, f.everyone}; !slices.Equal(idsOfGroups(got), want) || extra.Pagination.TotalCount != 4 {
			t.Errorf("got ids %v total %d, want %v total 4", idsOfGroups(got), extra.Pagination.TotalCount, want)
		}
	})

	t.Run("delete with state 2", func(t *testing.T) {
		var got groupOut
		mustGroupCall(t, e, "POST", f.groupsPath(fmt.Sprint(created.ID)), f.Token, `{"state": 2}`, &got)
		if got.State != 2 {
			t.Errorf("got state %d, want 2", got.State)
		}
		r := e.do("GET", f.groupsPath(fmt.Sprint(created.ID)+"/"), bearer(f.Token), "")
		wantField(t, r, http.StatusNotFound, "")
		for _, tc := range []struct {
			name  string
			query string
			want  []int64
			state int
		}{
			{"default is active only", "", []int64{f.owner, f.member, f.everyone}, 0},
			{"state=1", "?state=1", []int64{f.owner, f.member, f.everyone}, 0},
			{"state=2", "?state=2", []int64{created.ID}, 2},
			{"state=deleted", "?state=deleted", []int64{created.ID}, 2},
			{"state=all", "?state=all", []int64{f.owner, f.member, f.everyone, created.ID}, 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var gs []groupOut
				mustGroupCall(t, e, "GET", f.groupsPath(tc.query), f.Token, "", &gs)
				if !slices.Equal(idsOfGroups(gs), tc.want) {
					t.Fatalf("got ids %v, want %v", idsOfGroups(gs), tc.want)
				}
				if tc.state != 0 && gs[len(gs)-1].State != tc.state {
					t.Errorf("got state %d for the deleted group, want %d", gs[len(gs)-1].State, tc.state)
				}
			})
		}
		for _, tc := range []struct {
			name, path, body string
		}{
			{"update", f.groupsPath(fmt.Sprint(created.ID)), `{"name": "Back"}`},
			{"undelete", f.groupsPath(fmt.Sprint(created.ID)), `{"state": 1}`},
			{"permissions", f.permissionsPath(tokend.GroupID(created.ID)), `[]`},
		} {
			t.Run(tc.name+" of a deleted group is 404", func(t *testing.T) {
				wantField(t, e.do("POST", tc.path, bearer(f.Token), tc.body), http.StatusNotFound, "")
			})
		}
		t.Run("its name is free again", func(t *testing.T) {
			mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "data analysts"}`, nil)
		})
	})

	t.Run("audit", func(t *testing.T) {
		events, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: f.Account.ID, Page: tokend.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range events {
			if ev.TargetType == "group" && ev.TargetID == created.ID {
				got = append(got, ev.Action)
			}
		}
		slices.Sort(got)
		want := []string{"group.create", "group.delete", "group.update", "group.update"}
		if !slices.Equal(got, want) {
			t.Errorf("got audit actions %v, want %v", got, want)
		}
	})
}

func TestGroupBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
	var g groupOut
	mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Fremen"}`, &g)
	one := f.groupsPath(fmt.Sprint(g.ID) + "/")

	tests := []struct {
		name, method, path, body string
		code                     int
		field                    string
	}{
		{"create without name", "POST", f.groupsPath(""), `{"assign_by_default": true}`, 400, "name"},
		{"create with blank name", "POST", f.groupsPath(""), `{"name": "   "}`, 400, "name"},
		{"create with long name", "POST", f.groupsPath(""), `{"name": "` + strings.Repeat("é", 256) + `"}`, 400, "name"},
		{"create with a taken name", "POST", f.groupsPath(""), `{"name": "OWNER"}`, 400, "name"},
		{"create with a number for name", "POST", f.groupsPath(""), `{"name": 5}`, 400, "name"},
		{"create in another account_id", "POST", f.groupsPath(""), `{"name": "X", "account_id": 999}`, 400, "account_id"},
		{"create deleted", "POST", f.groupsPath(""), `{"name": "X", "state": 2}`, 400, "state"},
		{"create with an empty sso group", "POST", f.groupsPath(""), `{"name": "X", "sso_mapping_groups": [""]}`, 400, "sso_mapping_groups"},
		{"create with sso as a string", "POST", f.groupsPath(""), `{"name": "X", "sso_mapping_groups": "okta"}`, 400, "sso_mapping_groups"},
		{"create without a body", "POST", f.groupsPath(""), ``, 400, "body"},
		{"update to state 3", "POST", one, `{"state": 3}`, 400, "state"},
		{"update to a taken name", "POST", one, `{"name": " member "}`, 400, "name"},
		{"update another id", "POST", one, fmt.Sprintf(`{"id": %d}`, g.ID+100), 400, "id"},
		{"update in another account_id", "POST", one, `{"account_id": 999}`, 400, "account_id"},
		{"list with a bad state", "GET", f.groupsPath("?state=gone"), ``, 400, "state"},
		{"list with a bad limit", "GET", f.groupsPath("?limit=-1"), ``, 400, "limit"},
		{"get a missing group", "GET", f.groupsPath("999999/"), ``, 404, ""},
		{"get a non-numeric id", "GET", f.groupsPath("abc/"), ``, 404, ""},
		{"update a missing group", "POST", f.groupsPath("999999/"), `{"name": "X"}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, e.do(tt.method, tt.path, bearer(f.Token), tt.body), tt.code, tt.field)
		})
	}
	t.Run("keeping its own name is fine", func(t *testing.T) {
		mustGroupCall(t, e, "POST", one, f.Token, `{"name": "fremen"}`, nil)
	})
}

func TestGroupPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
	other := newGroupsFixture(t, e, "Caladan", "duke@example.com")
	project := addGroupsProject(t, e, f.Account.ID)
	foreign := addGroupsProject(t, e, other.Account.ID)
	var g groupOut
	mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Engineers"}`, &g)
	path := f.permissionsPath(tokend.GroupID(g.ID))

	t.Run("set two", func(t *testing.T) {
		body := fmt.Sprintf(`[
			{"account_id": %d, "group_id": %d, "permission_set": "account_admin", "all_projects": true, "project_id": null},
			{"permission_set": "developer", "all_projects": false, "project_id": %d, "writable_environment_categories": ["production"]}
		]`, f.Account.ID, g.ID, project)
		r := mustGroupCall(t, e, "POST", path, f.Token, body, nil)
		var got []grantOut
		r.data(t, &got)
		if len(got) != 2 {
			t.Fatalf("got %d permissions, want 2: %s", len(got), r.Raw)
		}
		if got[0].PermissionSet != "account_admin" || !got[0].AllProjects || got[0].ProjectID != nil ||
			got[0].GroupID != g.ID || got[0].AccountID != int64(f.Account.ID) || got[0].State != 1 || got[0].ID <= 0 {
			t.Errorf("got %+v, want account_admin on all projects of group %d", got[0], g.ID)
		}
		if got[1].PermissionSet != "developer" || got[1].AllProjects || got[1].ProjectID == nil || *got[1].ProjectID != project ||
			!slices.Equal(got[1].WritableEnvironmentCategories, []string{"production"}) {
			t.Errorf("got %+v, want developer on project %d writing production", got[1], project)
		}
		var extra listExtra
		if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
			t.Fatal(err)
		}
		if extra.Pagination.Count != 2 || extra.Pagination.TotalCount != 2 {
			t.Errorf("got pagination %+v, want count 2 total 2", extra.Pagination)
		}
		var group groupOut
		mustGroupCall(t, e, "GET", f.groupsPath(fmt.Sprint(g.ID)), f.Token, "", &group)
		if len(group.GroupPermissions) != 2 {
			t.Fatalf("got %d permissions on the group, want 2", len(group.GroupPermissions))
		}
		if *got[0].CreatedAt != *group.UpdatedAt || *got[0].UpdatedAt != *group.UpdatedAt {
			t.Errorf("got grant times %s/%s, want the group's updated_at %s", *got[0].CreatedAt, *got[0].UpdatedAt, *group.UpdatedAt)
		}
	})

	t.Run("set one replaces both", func(t *testing.T) {
		var got []grantOut
		mustGroupCall(t, e, "POST", path, f.Token, `[{"permission_set": "developer", "all_projects": true}]`, &got)
		if len(got) != 1 || got[0].PermissionSet != "developer" {
			t.Fatalf("got %+v, want only developer", got)
		}
		var group groupOut
		mustGroupCall(t, e, "GET", f.groupsPath(fmt.Sprint(g.ID)), f.Token, "", &group)
		if len(group.GroupPermissions) != 1 || group.GroupPermissions[0].PermissionSet != "developer" {
			t.Errorf("got %+v, want only developer on the group", group.GroupPermissions)
		}
	})

	t.Run("duplicates collapse", func(t *testing.T) {
		body := fmt.Sprintf(`[
			{"permission_set": "developer", "project_id": %[1]d, "writable_environment_categories": ["development"]},
			{"permission_set": "developer", "all_projects": true},
			{"permission_set": "developer", "all_projects": false, "project_id": %[1]d, "writable_environment_categories": ["staging", "development"]}
		]`, project)
		var got []grantOut
		mustGroupCall(t, e, "POST", path, f.Token, body, &got)
		if len(got) != 2 {
			t.Fatalf("got %d permissions, want 2: %+v", len(got), got)
		}
		if !slices.Equal(got[0].WritableEnvironmentCategories, []string{"development", "staging"}) {
			t.Errorf("got categories %v, want [development staging]", got[0].WritableEnvironmentCategories)
		}
	})

	t.Run("empty array clears", func(t *testing.T) {
		var got []grantOut
		r := mustGroupCall(t, e, "POST", path, f.Token, `[]`, &got)
		if len(got) != 0 || string(r.Body.Data) != "[]" {
			t.Errorf("got %s, want []", r.Body.Data)
		}
	})

	tests := []struct {
		name, path, body string
		code             int
		field            string
	}{
		{"another account's project", path, fmt.Sprintf(`[{"permission_set": "developer", "project_id": %d}]`, foreign), 400, "[0].project_id"},
		{"a missing project", path, `[{"permission_set": "developer", "all_projects": true}, {"permission_set": "developer", "project_id": 999999}]`, 400, "[1].project_id"},
		{"unknown permission set", path, `[{"permission_set": "emperor", "all_projects": true}]`, 400, "[0].permission_set"},
		{"both scopes", path, fmt.Sprintf(`[{"permission_set": "developer", "all_projects": true, "project_id": %d}]`, project), 400, "[0].project_id"},
		{"unknown category", path, `[{"permission_set": "developer", "all_projects": true, "writable_environment_categories": ["qa"]}]`, 400, "[0].writable_environment_categories"},
		{"an object, not an array", path, `{"permission_set": "developer"}`, 400, "body"},
		{"null", path, `null`, 400, "body"},
		{"project_id as a string", path, `[{"permission_set": "developer", "project_id": "one"}]`, 400, "project_id"},
		{"a missing group", f.permissionsPath(999999), `[]`, 404, ""},
		{"another account's group", f.permissionsPath(tokend.GroupID(other.owner)), `[]`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, e.do("POST", tt.path, bearer(f.Token), tt.body), tt.code, tt.field)
		})
	}
}

// Every group endpoint refuses a PAT of another account, and a member without the right
// capability.
func TestGroupAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
	other := newGroupsFixture(t, e, "Caladan", "duke@example.com")
	plain, plainTok := addGroupsMember(t, e, f.Account.ID, "plain@example.com", perm.LicenseDeveloper)
	reader, readerTok := addGroupsMember(t, e, f.Account.ID, "reader@example.com", perm.LicenseDeveloper)
	mustGroupCall(t, e, "POST", f.assignPath(), f.Token, fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, reader, f.member), nil)

	type call struct{ method, path, body string }
	reads := []call{
		{"GET", f.groupsPath(""), ""},
		{"GET", f.groupsPath(fmt.Sprint(f.member)), ""},
	}
	writes := []call{
		{"POST", f.groupsPath(""), `{"name": "Sardaukar"}`},
		{"POST", f.groupsPath(fmt.Sprint(f.everyone)), `{"name": "All"}`},
		{"POST", f.groupsPath(fmt.Sprint(f.everyone)), `{"state": 2}`},
		{"POST", f.permissionsPath(tokend.GroupID(f.everyone)), `[]`},
		{"POST", f.assignPath(), fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, plain, f.everyone)},
	}
	tests := []struct {
		name  string
		tok   string
		calls []call
		want  int
	}{
		{"another account's owner reads", other.Token, reads, http.StatusForbidden},
		{"another account's owner writes", other.Token, writes, http.StatusForbidden},
		{"member without groups reads", plainTok, reads, http.StatusForbidden},
		{"member without groups writes", plainTok, writes, http.StatusForbidden},
		{"Member group reads", readerTok, reads, http.StatusOK},
		{"Member group writes", readerTok, writes, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.calls {
				r := e.do(c.method, c.path, bearer(tt.tok), c.body)
				if r.Code != tt.want || r.Body.Status.Code != tt.want {
					t.Errorf("%s %s: got %d (status.code %d), want %d: %s", c.method, c.path, r.Code, r.Body.Status.Code, tt.want, r.Raw)
				}
				if tt.want == http.StatusForbidden && r.Body.Status.UserMessage == "" {
					t.Errorf("%s %s: got an empty user_message, want the reason", c.method, c.path)
				}
			}
		})
	}
	t.Run("nothing changed", func(t *testing.T) {
		var gs []groupOut
		mustGroupCall(t, e, "GET", f.groupsPath("?state=all"), f.Token, "", &gs)
		if want := []int64{f.owner, f.member, f.everyone}; !slices.Equal(idsOfGroups(gs), want) || gs[2].Name != tokend.GroupEveryone || gs[2].State != 1 {
			t.Errorf("got %+v, want the three default groups untouched", gs)
		}
	})
}

func TestAssignGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
	other := newGroupsFixture(t, e, "Caladan", "duke@example.com")
	user, _ := addGroupsMember(t, e, f.Account.ID, "stilgar@example.com", perm.LicenseDeveloper)
	var gone groupOut
	mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Gone"}`, &gone)
	mustGroupCall(t, e, "POST", f.groupsPath(fmt.Sprint(gone.ID)), f.Token, `{"state": 2}`, nil)

	t.Run("replaces the user's groups", func(t *testing.T) {
		for _, want := range [][]int64{{f.member, f.everyone}, {f.everyone}, {}} {
			body, _ := json.Marshal(map[string]any{"user_id": user, "desired_group_ids": want})
			r := mustGroupCall(t, e, "POST", f.assignPath(), f.Token, string(body), nil)
			var got []groupOut
			r.data(t, &got)
			if !slices.Equal(idsOfGroups(got), want) {
				t.Errorf("got groups %v, want %v", idsOfGroups(got), want)
			}
			var extra listExtra
			if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			if extra.Pagination.Count != len(want) || extra.Pagination.TotalCount != len(want) {
				t.Errorf("got pagination %+v, want count and total %d", extra.Pagination, len(want))
			}
		}
	})

	t.Run("member_count follows", func(t *testing.T) {
		mustGroupCall(t, e, "POST", f.assignPath(), f.Token, fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d, %d]}`, user, f.member, f.member), nil)
		var g groupOut
		mustGroupCall(t, e, "GET", f.groupsPath(fmt.Sprint(f.member)), f.Token, "", &g)
		if g.MemberCount != 1 {
			t.Errorf("got member_count %d, want 1", g.MemberCount)
		}
	})

	tests := []struct {
		name  string
		body  string
		code  int
		field string
	}{
		{"an unknown user", fmt.Sprintf(`{"user_id": 999999, "desired_group_ids": [%d]}`, f.everyone), 404, ""},
		{"another account's user", fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, other.User.ID, f.everyone), 404, ""},
		{"another account's group", fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, user, other.everyone), 400, "desired_group_ids"},
		{"a deleted group", fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, user, gone.ID), 400, "desired_group_ids"},
		{"no user_id", fmt.Sprintf(`{"desired_group_ids": [%d]}`, f.everyone), 400, "user_id"},
		{"no desired_group_ids", fmt.Sprintf(`{"user_id": %d}`, user), 400, "desired_group_ids"},
		{"ids as strings", fmt.Sprintf(`{"user_id": %d, "desired_group_ids": ["a"]}`, user), 400, "desired_group_ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", f.assignPath(), bearer(f.Token), tt.body)
			wantField(t, r, tt.code, tt.field)
			if tt.code == http.StatusNotFound && !strings.Contains(r.Body.Status.UserMessage, "User") {
				t.Errorf("got user_message %q, want it to name the user", r.Body.Status.UserMessage)
			}
		})
	}
}

// A change of groups or grants reaches a member's PAT on its very next request, without waiting
// for the verification cache to expire.
func TestGroupChangesApplyAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
	x, xTok := addGroupsMember(t, e, f.Account.ID, "jessica@example.com", perm.LicenseDeveloper)
	var admins groupOut
	mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Admins"}`, &admins)
	mustGroupCall(t, e, "POST", f.permissionsPath(tokend.GroupID(admins.ID)), f.Token, `[{"permission_set": "account_admin", "all_projects": true}]`, nil)

	assign := func(t testing.TB, ids ...int64) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"user_id": x, "desired_group_ids": append([]int64{}, ids...)})
		mustGroupCall(t, e, "POST", f.assignPath(), f.Token, string(body), nil)
	}
	setAdmins := func(t testing.TB, set string) {
		t.Helper()
		mustGroupCall(t, e, "POST", f.permissionsPath(tokend.GroupID(admins.ID)), f.Token, fmt.Sprintf(`[{"permission_set": %q, "all_projects": true}]`, set), nil)
	}
	// Each step's first request is the rename, while the cache holds X's principal from the
	// previous step's reads (a successful rename invalidates the account itself, so reads warm it).
	steps := []struct {
		name         string
		change       func(testing.TB)
		rename, read int
	}{
		{"no groups", func(testing.TB) {}, http.StatusForbidden, http.StatusForbidden},
		{"assigned to Owner", func(t testing.TB) { assign(t, f.owner) }, http.StatusOK, http.StatusOK},
		{"removed from Owner", func(t testing.TB) { assign(t) }, http.StatusForbidden, http.StatusForbidden},
		{"assigned to Admins", func(t testing.TB) { assign(t, admins.ID, f.everyone) }, http.StatusOK, http.StatusOK},
		{"Admins loses account_admin", func(t testing.TB) { setAdmins(t, "readonly") }, http.StatusForbidden, http.StatusOK},
		{"Admins gets it back", func(t testing.TB) { setAdmins(t, "account_admin") }, http.StatusOK, http.StatusOK},
		{"Admins deleted", func(t testing.TB) {
			mustGroupCall(t, e, "POST", f.groupsPath(fmt.Sprint(admins.ID)), f.Token, `{"state": 2}`, nil)
		}, http.StatusForbidden, http.StatusForbidden},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.change(t)
			r := e.do("POST", f.renamePath(), bearer(xTok), fmt.Sprintf(`{"name": "Arrakis %d"}`, i))
			if r.Code != s.rename {
				t.Fatalf("rename the account: got %d, want %d: %s", r.Code, s.rename, r.Raw)
			}
			// Twice: the first read warms the cache, the second is answered from it.
			for range 2 {
				if r := e.do("GET", f.groupsPath(""), bearer(xTok), ""); r.Code != s.read {
					t.Fatalf("list groups: got %d, want %d: %s", r.Code, s.read, r.Raw)
				}
			}
		})
	}
}

// A security admin manages groups but cannot hand out, or take away, more than they hold.
func TestGroupEscalation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
	sec, secTok := addGroupsMember(t, e, f.Account.ID, "hawat@example.com", perm.LicenseDeveloper)
	x, _ := addGroupsMember(t, e, f.Account.ID, "gurney@example.com", perm.LicenseDeveloper)
	var security groupOut
	mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Security"}`, &security)
	mustGroupCall(t, e, "POST", f.permissionsPath(tokend.GroupID(security.ID)), f.Token, `[{"permission_set": "security_admin", "all_projects": true}]`, nil)
	mustGroupCall(t, e, "POST", f.assignPath(), f.Token, fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, sec, security.ID), nil)

	var own groupOut
	mustGroupCall(t, e, "POST", f.groupsPath(""), secTok, `{"name": "Auditors"}`, &own)
	ownPerms := f.permissionsPath(tokend.GroupID(own.ID))

	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"grant account_admin", "POST", ownPerms, `[{"permission_set": "account_admin", "all_projects": true}]`, 403},
		{"grant owner", "POST", ownPerms, `[{"permission_set": "owner", "all_projects": true}]`, 403},
		{"grant job_admin", "POST", ownPerms, `[{"permission_set": "job_admin", "all_projects": true}]`, 403},
		{"grant security_admin", "POST", ownPerms, `[{"permission_set": "security_admin", "all_projects": true}]`, 200},
		{"grant job_viewer beside", "POST", ownPerms, `[{"permission_set": "security_admin", "all_projects": true}, {"permission_set": "job_viewer", "all_projects": true}]`, 403},
		{"put someone in Owner", "POST", f.assignPath(), fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, x, f.owner), 403},
		{"put themselves in Owner", "POST", f.assignPath(), fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d, %d]}`, sec, security.ID, f.owner), 403},
		{"put someone in Member", "POST", f.assignPath(), fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, x, f.member), 403},
		{"take the owner out of Owner", "POST", f.assignPath(), fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, f.User.ID, f.everyone), 403},
		{"rename Owner", "POST", f.groupsPath(fmt.Sprint(f.owner)), `{"name": "Nobody"}`, 403},
		{"delete Owner", "POST", f.groupsPath(fmt.Sprint(f.owner)), `{"state": 2}`, 403},
		{"strip Owner", "POST", f.permissionsPath(tokend.GroupID(f.owner)), `[]`, 403},
		{"put someone in Security", "POST", f.assignPath(), fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d, %d]}`, x, security.ID, f.everyone), 200},
		{"rename their own group", "POST", f.groupsPath(fmt.Sprint(own.ID)), `{"name": "Auditors 2"}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, bearer(secTok), tt.body)
			if r.Code != tt.want {
				t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
			}
		})
	}
	t.Run("the owner is still an owner", func(t *testing.T) {
		var g groupOut
		mustGroupCall(t, e, "GET", f.groupsPath(fmt.Sprint(f.owner)), f.Token, "", &g)
		if g.Name != tokend.GroupOwner || len(g.GroupPermissions) != 1 || g.GroupPermissions[0].PermissionSet != "account_admin" || g.MemberCount != 1 {
			t.Errorf("got %+v, want Owner with account_admin and its one member", g)
		}
		mustGroupCall(t, e, "POST", f.renamePath(), f.Token, `{"name": "Still mine"}`, nil)
	})
}

// The Terraform provider's dbtcloud_groups data source looks groups up by name.
func TestGroupNameFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("A", "owner@example.com")
	path := fmt.Sprintf("/api/v3/accounts/%d/groups/", a.Account.ID)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?name=Owner", []string{"Owner"}},
		{"?name__icontains=VER", []string{"Everyone"}},
		{"?name__icontains=e", []string{"Owner", "Member", "Everyone"}},
		{"?name=nobody", nil},
	} {
		r := e.do("GET", path+tc.query, bearer(a.Token), "")
		var got []struct {
			Name string `json:"name"`
		}
		r.data(t, &got)
		var names []string
		for _, g := range got {
			names = append(names, g.Name)
		}
		if strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v, want %v", tc.query, names, tc.want)
		}
	}
}
