package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/httpapi"
	"tokend/perm"
)

// The authorization matrix: every route × every kind of principal → allowed or denied,
// derived from the permission table, so that a handler wired to the wrong capability, a
// missing account-boundary check or an object-level check that runs after the lookup (OWASP
// API1 BOLA, API5 BFLA) fails here. A route with no rule fails the test.

// mPrincipal is one caller of the matrix.
type mPrincipal struct {
	name    string
	token   string
	kind    tokend.TokenKind // "" for no token
	license perm.License     // PATs
	perms   perm.Evaluated
	userID  int64
	other   bool // a token of another account
}

func (p *mPrincipal) can(r perm.Resource, a perm.Access, projectID tokend.ProjectID) bool {
	return p.perms.Allows(r, a, int64(projectID))
}

// fixtures are the objects of account A that paths point at.
type fixtures struct {
	account, project, deletable, group, victim, victimMembership, victimPAT, serviceToken, spareToken, licenseMap int64
}

// fixture is what a request to a route is made of: the objects its path points at and a body.
// Who may call the route is not written here: the route table declares it (httpapi.Routes),
// and allowed derives the expected answer from that declaration.
type fixture struct {
	ids  func(f fixtures) map[string]int64
	body func(n int64) string
}

// allowed reports whether the declared need n admits caller p on the objects in f. userContext
// routes are tried twice: on a victim's objects (nobody in the matrix may) and on the caller's
// own (only a PAT may); that part is in the test.
func allowed(n tokend.RouteNeed, p *mPrincipal, f fixtures, ids map[string]int64) bool {
	if n.SCIM {
		return false // only a SCIM token, and the matrix holds none (TestSCIMTokens has them)
	}
	if n.TokenLicense && p.kind != tokend.KindService && !p.license.CanManageServiceTokens() {
		return false
	}
	project := int64(0)
	if n.Project != "" {
		if project = ids[n.Project]; project == 0 {
			project = f.project // a body field: the fixtures' bodies name project P
		}
	}
	for _, c := range n.Caps {
		ok := p.can(c.Resource, c.Access, tokend.ProjectID(project))
		if n.AnyProject {
			ok = p.perms.AllowsAnyProject(c.Resource, c.Access)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matrixFixtures() map[string]fixture {
	acct := func(f fixtures) map[string]int64 { return map[string]int64{"account_id": f.account} }
	with := func(name string, pick func(f fixtures) int64) func(f fixtures) map[string]int64 {
		return func(f fixtures) map[string]int64 { return map[string]int64{"account_id": f.account, name: pick(f)} }
	}
	victimUser := func(f fixtures) map[string]int64 {
		return map[string]int64{"account_id": f.account, "user_id": f.victim, "id": f.victimPAT}
	}
	project := func(f fixtures) int64 { return f.project }
	missing := func(fixtures) int64 { return 999999 }
	return map[string]fixture{
		"GET /api/v2/accounts/":               {},
		"GET /api/v3/accounts/":               {},
		"GET /api/v2/whoami/":                 {},
		"GET /api/v3/whoami/":                 {},
		"GET /api/v2/accounts/{account_id}/":  {ids: acct},
		"GET /api/v3/accounts/{account_id}/":  {ids: acct},
		"POST /api/v2/accounts/{account_id}/": {ids: acct, body: func(int64) string { return `{"name": "Matrix"}` }},

		"GET /api/v3/accounts/{account_id}/users/": {ids: acct},
		"GET /api/v2/accounts/{account_id}/users/": {ids: acct},
		"POST /api/v3/accounts/{account_id}/users/": {ids: acct, body: func(n int64) string {
			return fmt.Sprintf(`{"email": "m%d@example.com", "license_type": "developer"}`, n)
		}},
		"GET /api/v3/accounts/{account_id}/users/{id}/": {ids: with("id", func(f fixtures) int64 { return f.victim })},
		"GET /api/v2/accounts/{account_id}/users/{id}/": {ids: with("id", func(f fixtures) int64 { return f.victim })},
		"POST /api/v2/accounts/{account_id}/permissions/{id}/": {
			ids:  with("id", func(f fixtures) int64 { return f.victimMembership }),
			body: func(int64) string { return `{"license_type": "developer"}` }},
		"GET /api/v2/accounts/{account_id}/licenses/":           {ids: acct},
		"GET /api/v3/accounts/{account_id}/scim-config/tokens/": {ids: acct},
		"POST /api/v3/accounts/{account_id}/scim-config/tokens/": {ids: acct,
			body: func(n int64) string { return fmt.Sprintf(`{"name": "m%d"}`, n) }},
		"GET /api/v3/accounts/{account_id}/scim-config/tokens/{id}/":    {ids: with("id", missing)},
		"DELETE /api/v3/accounts/{account_id}/scim-config/tokens/{id}/": {ids: with("id", missing)},
		"GET /api/v3/accounts/{account_id}/scim/v2/Users":               {ids: acct},
		"GET /api/v3/accounts/{account_id}/scim/v2/Users/{user_id}":     {ids: with("user_id", func(f fixtures) int64 { return f.victim })},
		"GET /api/v3/accounts/{account_id}/license-maps/":               {ids: acct},
		"POST /api/v3/accounts/{account_id}/license-maps/": {ids: acct, body: func(n int64) string {
			return fmt.Sprintf(`{"license_type": "analyst", "sso_license_mapping_groups": ["m%d"]}`, n)
		}},
		"GET /api/v3/accounts/{account_id}/license-maps/{id}/": {ids: with("id", func(f fixtures) int64 { return f.licenseMap })},
		"POST /api/v3/accounts/{account_id}/license-maps/{id}/": {ids: with("id", func(f fixtures) int64 { return f.licenseMap }),
			body: func(n int64) string { return fmt.Sprintf(`{"sso_license_mapping_groups": ["m%d"]}`, n) }},
		"DELETE /api/v3/accounts/{account_id}/license-maps/{id}/": {ids: with("id", missing)},

		"POST /api/v3/accounts/{account_id}/invites/": {ids: acct, body: func(n int64) string {
			return fmt.Sprintf(`{"email_addresses": ["i%d@example.com"], "license_type": "developer"}`, n)
		}},
		"GET /api/v2/accounts/{account_id}/invites/":               {ids: acct},
		"GET /api/v2/accounts/{account_id}/invites/{id}/":          {ids: with("id", missing)},
		"GET /api/tokend/v1/users/{user_id}/invites/":              {ids: victimUser},
		"POST /api/tokend/v1/users/{user_id}/invites/{id}/accept/": {ids: victimUser},

		"GET /api/v3/accounts/{account_id}/groups/": {ids: acct},
		"POST /api/v3/accounts/{account_id}/groups/": {ids: acct,
			body: func(n int64) string { return fmt.Sprintf(`{"name": "m%d", "assign_by_default": false}`, n) }},
		"GET /api/v3/accounts/{account_id}/groups/{id}/": {ids: with("id", func(f fixtures) int64 { return f.group })},
		"POST /api/v3/accounts/{account_id}/groups/{id}/": {ids: with("id", func(f fixtures) int64 { return f.group }),
			body: func(int64) string { return `{"name": "Nobody"}` }},
		"POST /api/v3/accounts/{account_id}/group-permissions/{group_id}/": {
			ids: with("group_id", func(f fixtures) int64 { return f.group }), body: func(int64) string { return `[]` }},
		"POST /api/v3/accounts/{account_id}/assign-groups/": {ids: acct,
			body: func(int64) string { return `{"user_id": %VICTIM%, "desired_group_ids": []}` }},

		"GET /api/v3/accounts/{account_id}/projects/": {ids: acct},
		"POST /api/v3/accounts/{account_id}/projects/": {ids: acct,
			body: func(n int64) string { return fmt.Sprintf(`{"name": "m%d"}`, n) }},
		"GET /api/v3/accounts/{account_id}/projects/{id}/": {ids: with("id", project)},
		"POST /api/v3/accounts/{account_id}/projects/{id}/": {ids: with("id", project),
			body: func(int64) string { return `{"name": "P"}` }},
		"DELETE /api/v3/accounts/{account_id}/projects/{id}/": {ids: with("id", func(f fixtures) int64 { return f.deletable })},
		"GET /api/v2/accounts/{account_id}/projects/":         {ids: acct},
		"GET /api/v2/accounts/{account_id}/projects/{id}/":    {ids: with("id", project)},

		"GET /api/v3/accounts/{account_id}/audit-logs/":               {ids: acct},
		"GET /api/tokend/v1/accounts/{account_id}/audit-logs/export/": {ids: acct},

		"GET /api/v3/accounts/{account_id}/ip-restrictions/": {ids: acct},
		"POST /api/v3/accounts/{account_id}/ip-restrictions/": {ids: acct, body: func(n int64) string {
			return fmt.Sprintf(`{"name": "m%d", "type": 2, "cidrs": [{"cidr": "192.0.2.%d/32"}]}`, n, n%250)
		}},
		"GET /api/v3/accounts/{account_id}/ip-restrictions/{id}/": {ids: with("id", missing)},
		"PUT /api/v3/accounts/{account_id}/ip-restrictions/{id}/": {ids: with("id", missing),
			body: func(int64) string { return `{"name": "x", "type": 2, "cidrs": [{"cidr": "192.0.2.1"}]}` }},
		"DELETE /api/v3/accounts/{account_id}/ip-restrictions/{id}/": {ids: with("id", missing)},
		"POST /api/v3/accounts/{account_id}/ip-restrictions-set/": {ids: acct,
			body: func(int64) string { return `{"enabled": false}` }},

		"GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/": {ids: victimUser},
		"POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/": {ids: victimUser,
			body: func(n int64) string { return fmt.Sprintf(`{"name": "m%d"}`, n) }},
		"GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/":    {ids: victimUser},
		"POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/":   {ids: victimUser},
		"DELETE /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/": {ids: victimUser},

		"GET /api/v3/users/{user_id}/credentials/": {ids: victimUser},
		"POST /api/v3/users/{user_id}/credentials/": {ids: victimUser, body: func(int64) string {
			return `{"account_id": %ACCOUNT%, "project_id": %PROJECT%, "credentials_id": 1, "state": 1}`
		}},
		"GET /api/v3/users/{user_id}/credentials/{id}/":    {ids: victimUser},
		"POST /api/v3/users/{user_id}/credentials/{id}/":   {ids: victimUser, body: func(int64) string { return `{"state": 1}` }},
		"DELETE /api/v3/users/{user_id}/credentials/{id}/": {ids: victimUser},

		"GET /api/v3/accounts/{account_id}/service-tokens/": {ids: acct},
		"POST /api/v3/accounts/{account_id}/service-tokens/": {ids: acct,
			body: func(n int64) string { return fmt.Sprintf(`{"name": "m%d"}`, n) }},
		"GET /api/v3/accounts/{account_id}/service-tokens/{id}/": {ids: with("id", func(f fixtures) int64 { return f.serviceToken })},
		"PUT /api/v3/accounts/{account_id}/service-tokens/{id}/": {ids: with("id", func(f fixtures) int64 { return f.serviceToken }),
			body: func(int64) string { return `{"name": "S"}` }},
		"POST /api/v3/accounts/{account_id}/service-tokens/{id}/": {ids: with("id", func(f fixtures) int64 { return f.serviceToken }),
			body: func(int64) string { return `{"name": "S"}` }},
		"DELETE /api/v3/accounts/{account_id}/service-tokens/{id}/": {ids: with("id", func(f fixtures) int64 { return f.spareToken })},
		"GET /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/": {
			ids: with("service_token_id", func(f fixtures) int64 { return f.serviceToken })},
		"POST /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/": {
			ids: with("service_token_id", func(f fixtures) int64 { return f.serviceToken }), body: func(int64) string { return `[]` }},

		"GET /api/tokend/v1/accounts/{account_id}/tokens/": {ids: acct},
		"POST /api/tokend/v1/accounts/{account_id}/tokens/revoke/": {ids: acct,
			body: func(int64) string { return `{"token_ids": [%SPARE%]}` }},
		"POST /api/tokend/v1/accounts/{account_id}/service-tokens/{id}/rotate/": {
			ids: with("id", func(f fixtures) int64 { return f.serviceToken })},
		"POST /api/tokend/v1/revoke/":      {},
		"POST /api/tokend/v1/introspect/":  {body: func(int64) string { return "token=nothing" }},
		"GET /api/tokend/v1/forward-auth/": {},

		"GET /api/tokend/v1/accounts/{account_id}/trust-policies/": {ids: acct},
		"POST /api/tokend/v1/accounts/{account_id}/trust-policies/": {ids: acct, body: func(n int64) string {
			return fmt.Sprintf(`{"name": "m%d", "issuer": "https://token.actions.githubusercontent.com", "audience": "tokend",
				"claims": {"repository": "acme/widgets"}, "permissions": []}`, n)
		}},
		"GET /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/": {ids: with("id", missing)},
		"PUT /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/": {ids: with("id", missing),
			body: func(int64) string { return `{"name": "T"}` }},
		"POST /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/": {ids: with("id", missing),
			body: func(int64) string { return `{"name": "T"}` }},
		"DELETE /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/": {ids: with("id", missing)},
		"GET /api/tokend/v1/accounts/{account_id}/webhooks/":               {ids: acct},
		"POST /api/tokend/v1/accounts/{account_id}/webhooks/": {ids: acct, body: func(n int64) string {
			return fmt.Sprintf(`{"url": "https://hooks.example.com/m%d", "events": ["token.created"]}`, n)
		}},
		"GET /api/tokend/v1/accounts/{account_id}/webhooks/{id}/":                {ids: with("id", missing)},
		"PUT /api/tokend/v1/accounts/{account_id}/webhooks/{id}/":                {ids: with("id", missing), body: func(int64) string { return `{"description": "x"}` }},
		"POST /api/tokend/v1/accounts/{account_id}/webhooks/{id}/":               {ids: with("id", missing), body: func(int64) string { return `{"description": "x"}` }},
		"DELETE /api/tokend/v1/accounts/{account_id}/webhooks/{id}/":             {ids: with("id", missing)},
		"POST /api/tokend/v1/accounts/{account_id}/webhooks/{id}/rotate-secret/": {ids: with("id", missing)},
		"GET /api/tokend/v1/accounts/{account_id}/webhooks/{id}/deliveries/":     {ids: with("id", missing)},
		"GET /api/tokend/v1/accounts/{account_id}/webhooks/{id}/deliveries/{delivery_id}/": {ids: func(f fixtures) map[string]int64 {
			return map[string]int64{"account_id": f.account, "id": 999999, "delivery_id": 999999}
		}},
		"POST /api/tokend/v1/accounts/{account_id}/webhooks/{id}/deliveries/{delivery_id}/redeliver/": {ids: func(f fixtures) map[string]int64 {
			return map[string]int64{"account_id": f.account, "id": 999999, "delivery_id": 999999}
		}},
		"POST /api/tokend/v1/oauth/token/":       {},
		"POST /api/tokend/v1/oauth/device/code/": {},
		"GET /api/tokend/v1/accounts/{account_id}/tokens/{id}/activity/": {
			ids: with("id", func(f fixtures) int64 { return f.victimPAT })},
		"GET /api/tokend/v1/accounts/{account_id}/tokens/{id}/advice/": {
			ids: with("id", func(f fixtures) int64 { return f.victimPAT })},
		"POST /api/tokend/v1/accounts/{account_id}/tokens/{id}/enable/": {
			ids: with("id", func(f fixtures) int64 { return f.victimPAT })},

		"POST /api/tokend/v1/users/{user_id}/password/": {ids: victimUser, body: func(int64) string {
			return `{"current_password": "not the password", "new_password": "a new long password"}`
		}},
		"POST /api/tokend/v1/accounts/{account_id}/users/{user_id}/password-reset/": {ids: victimUser},
		"POST /api/tokend/v1/password-reset/":                                       {},

		"GET /api/v2/users/{user_id}/apikey/":                 {ids: victimUser},
		"POST /api/v2/users/{user_id}/apikey/":                {ids: victimUser},
		"GET /api/v3/accounts/{account_id}/legacy-key-usage/": {ids: acct},
	}
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func fill(t testing.TB, path string, ids map[string]int64) string {
	return placeholder.ReplaceAllStringFunc(path, func(m string) string {
		v, ok := ids[strings.Trim(m, "{}")]
		if !ok {
			t.Fatalf("no value for %s in %s", m, path)
		}
		return fmt.Sprint(v)
	})
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	owner := e.initAccountOn(perm.PlanEnterprisePlus, "Matrix", "owner@example.com")
	other := e.initAccount("Elsewhere", "other@example.com")
	acct := owner.Account.ID
	now := time.Now().UTC().Truncate(time.Microsecond)

	mkProject := func(name string) int64 {
		p := &tokend.Project{AccountID: acct, Name: name, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		return int64(p.ID)
	}
	f := fixtures{account: int64(acct), project: mkProject("P"), deletable: mkProject("D")}
	lm := &tokend.LicenseMap{AccountID: acct, License: perm.LicenseReadOnly, SSOGroups: []string{"readers"}, State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateLicenseMap(ctx, lm); err != nil {
		t.Fatal(err)
	}
	f.licenseMap = int64(lm.ID)
	otherProject := mkProject("Q")
	f.group = groupID(t, e, acct, tokend.GroupEveryone)
	victim := addUser(t, e, owner.Token, acct, `{"email": "victim@example.com", "license_type": "developer"}`)
	f.victim = victim.ID
	m, err := e.store.Membership(ctx, acct, tokend.UserID(victim.ID))
	if err != nil {
		t.Fatal(err)
	}
	f.victimMembership = int64(m.ID)
	f.victimPAT = tokenID(t, e, uidOf(t, mintPAT(t, e, acct, tokend.UserID(victim.ID))))
	f.serviceToken = tokenID(t, e, uidOf(t, mintService(t, e, acct, perm.JobViewer)))
	f.spareToken = tokenID(t, e, uidOf(t, mintService(t, e, acct, perm.JobViewer)))

	// The callers: every license with account_admin, a Developer with each permission set, a
	// service token with each set, project-scoped users, another account's owner, and nobody.
	var callers []*mPrincipal
	n := 0
	pat := func(name string, license perm.License, grants ...perm.Grant) {
		n++
		u := &tokend.User{Email: fmt.Sprintf("caller%d@example.com", n), State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateMembership(ctx, &tokend.Membership{AccountID: acct, UserID: u.ID, License: license,
			State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		g := &tokend.Group{AccountID: acct, Name: fmt.Sprintf("caller %d: %s", n, name), State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetGroupPermissions(ctx, acct, g.ID, grants); err != nil {
			t.Fatal(err)
		}
		setGroups(t, e, acct, u.ID, g.ID)
		callers = append(callers, &mPrincipal{name: "PAT " + name, token: mintPAT(t, e, acct, u.ID), kind: tokend.KindPAT,
			license: license, perms: perm.Evaluate(grants).Apply(license), userID: int64(u.ID)})
	}
	for _, l := range perm.LicenseTypes() {
		pat(string(l)+" license, account_admin", l, perm.Grant{Set: perm.AccountAdmin, AllProjects: true})
	}
	for _, s := range perm.Sets() {
		pat("developer license, "+string(s), perm.LicenseDeveloper, perm.Grant{Set: s, AllProjects: true})
		grants := []perm.Grant{{Set: s, AllProjects: true}}
		callers = append(callers, &mPrincipal{name: "service token " + string(s), token: mintService(t, e, acct, s),
			kind: tokend.KindService, perms: perm.Evaluate(grants)})
	}
	pat("admin on project P only", perm.LicenseDeveloper, perm.Grant{Set: perm.Admin, ProjectID: f.project})
	pat("admin on project Q only", perm.LicenseDeveloper, perm.Grant{Set: perm.Admin, ProjectID: otherProject})
	pat("no groups", perm.LicenseDeveloper)
	callers = append(callers, &mPrincipal{name: "another account's owner", token: other.Token, kind: tokend.KindPAT,
		license: perm.LicenseDeveloper, other: true, userID: int64(other.User.ID),
		// The owner of their own account: what they may do there, on routes bound to no account.
		perms: perm.Evaluate([]perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}})},
		&mPrincipal{name: "no token"})

	fx := matrixFixtures()
	routes := httpapi.Routes()
	for _, rt := range routes {
		if _, ok := fx[rt.Pattern]; !ok {
			t.Errorf("route %q has no fixture in the authorization matrix: add one", rt.Pattern)
		}
	}
	var counter atomic.Int64
	for _, rt := range routes {
		fxt, ok := fx[rt.Pattern]
		need := rt.Need
		if !ok || need.Public {
			continue
		}
		method, pattern, _ := strings.Cut(rt.Pattern, " ")
		t.Run(rt.Pattern, func(t *testing.T) {
			for _, c := range callers {
				for _, self := range []bool{false, true} {
					if self && (!need.UserContext || c.kind != tokend.KindPAT || c.other) {
						continue
					}
					ids := map[string]int64{}
					if fxt.ids != nil {
						ids = fxt.ids(f)
					}
					want := true
					switch {
					case c.kind == "":
						want = false
					case need.UserContext && !self:
						want = false // someone else's user context: nobody may
					case need.UserContext:
						ids["user_id"], ids["id"] = c.userID, 999999
						want = c.kind == tokend.KindPAT && allowed(need, c, f, ids)
					case c.other && ids["account_id"] != 0:
						want = false
					default:
						want = allowed(need, c, f, ids)
					}
					path := fill(t, pattern, ids)
					body := ""
					if fxt.body != nil {
						body = fxt.body(counter.Add(1))
						body = strings.NewReplacer("%VICTIM%", fmt.Sprint(f.victim), "%ACCOUNT%", fmt.Sprint(acct),
							"%PROJECT%", fmt.Sprint(f.project), "%SPARE%", fmt.Sprint(f.spareToken)).Replace(body)
					}
					auth := ""
					if c.token != "" {
						auth = "Bearer " + c.token
					}
					code := e.status(method, path, auth, body)
					label := c.name
					if self {
						label += " (own user)"
					}
					switch {
					case c.kind == "" && code != http.StatusUnauthorized:
						t.Errorf("%s: got %d, want 401", label, code)
					case c.kind != "" && !want && code != http.StatusForbidden:
						t.Errorf("%s: got %d, want 403", label, code)
					case want && (code == http.StatusForbidden || code == http.StatusUnauthorized || code >= 500):
						t.Errorf("%s: got %d, want it allowed", label, code)
					}
				}
			}
		})
	}
}

// uidOf is the public id inside a token string.
func uidOf(t testing.TB, tok string) string {
	t.Helper()
	_, rest, ok := strings.Cut(tok, "_")
	if !ok || len(rest) < 10 {
		t.Fatalf("not a token")
	}
	return rest[:10]
}

// status sends a request and returns only its status code.
func (e *env) status(method, path, auth, body string) int {
	e.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, e.srv.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, err = http.NewRequest(method, e.srv.URL+path, nil)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestEveryRouteDeclaresItsNeed: each route of the table says who may call it, in exactly one
// way, and names no project field without a capability to check there.
func TestEveryRouteDeclaresItsNeed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, rt := range httpapi.Routes() {
		n := rt.Need
		kinds := 0
		for _, b := range []bool{n.Public, n.Any, n.UserContext && len(n.Caps) == 0, len(n.Caps) > 0, n.SCIM} {
			if b {
				kinds++
			}
		}
		if kinds != 1 {
			t.Errorf("%s: got a need of %d kinds (public, any token, user context, capabilities, SCIM), want exactly 1", rt.Pattern, kinds)
		}
		if (n.Project != "" || n.AnyProject) && len(n.Caps) == 0 {
			t.Errorf("%s: names a project but no capability to check in it", rt.Pattern)
		}
		if seen[rt.Pattern] {
			t.Errorf("%s: declared twice", rt.Pattern)
		}
		seen[rt.Pattern] = true
	}
}
