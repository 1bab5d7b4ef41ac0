package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"tokend/internal/dbtspec"
	"tokend/perm"
)

// loadDBTSpec loads one of dbt Cloud's OpenAPI documents from ../shared (it fails without
// them, never skips). dbt's documents do
// not mark fields nullable although dbt sends null for unset ones (and so does tokend, rather
// than invent values), so every schema is made nullable before validating; everything else —
// required fields, types, enums — is checked as written.
func loadDBTSpec(t *testing.T, name string) *openapi3.T {
	t.Helper()
	path := dbtspec.Path(t, name)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		s.Nullable = true
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		for _, l := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range l {
				walk(x)
			}
		}
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	return doc
}

// responseSchema finds the JSON schema dbt documents for a 2xx answer of method on template.
func responseSchema(doc *openapi3.T, method, template string) *openapi3.Schema {
	item := doc.Paths.Value(template)
	if item == nil {
		return nil
	}
	op := item.GetOperation(method)
	if op == nil || op.Responses == nil {
		return nil
	}
	for code := 200; code < 300; code++ {
		r := op.Responses.Value(strconv.Itoa(code))
		if r == nil || r.Value == nil {
			continue
		}
		for _, ct := range []string{"application/json", "application/scim+json"} {
			if mt := r.Value.Content.Get(ct); mt != nil && mt.Schema != nil {
				return mt.Schema.Value
			}
		}
	}
	return nil
}

// TestResponsesMatchDBTOpenAPI calls every dbt route tokend serves and validates the answer
// against the schema in dbt's OpenAPI documents.
func TestResponsesMatchDBTOpenAPI(t *testing.T) {
	t.Parallel()
	docs := map[string]*openapi3.T{"v2": loadDBTSpec(t, "openapi-v2.yaml"), "v3": loadDBTSpec(t, "openapi-v3.yaml")}
	eachStore(t, func(t *testing.T, e *env) { checkResponses(t, docs, e) })
}

func checkResponses(t *testing.T, docs map[string]*openapi3.T, e *env) {
	a := e.initAccountOn(perm.PlanEnterprisePlus, "Contract", "contract@example.com")
	acct, user := a.Account.ID, a.User.ID
	tok := bearer(a.Token)
	mk := func(method, path, body string) map[string]any {
		t.Helper()
		r := e.do(method, path, tok, body)
		if r.Code/100 != 2 {
			t.Fatalf("%s %s: got %d: %s", method, path, r.Code, r.Raw)
		}
		var v map[string]any
		json.Unmarshal(r.Body.Data, &v)
		return v
	}
	id := func(v map[string]any) int64 { return int64(v["id"].(float64)) }
	project := id(mk("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), `{"name": "P"}`))
	group := id(mk("POST", fmt.Sprintf("/api/v3/accounts/%d/groups/", acct), `{"name": "G", "assign_by_default": false}`))
	pat := id(mk("POST", patsPath(acct, user), `{"name": "contract"}`))
	st := id(mk("POST", stPath(acct, ""), `{"name": "svc", "permission_grants": [{"permission_set": "job_admin"}]}`))
	m, err := e.store.Membership(context.Background(), acct, user)
	if err != nil {
		t.Fatal(err)
	}
	rule := id(mk("POST", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", acct),
		fmt.Sprintf(`{"account_id": %d, "name": "office", "type": 1, "rule_set_enabled": false, "cidrs": [{"cidr": "127.0.0.0/8"}]}`, acct)))
	licenseMap := id(mk("POST", fmt.Sprintf("/api/v3/accounts/%d/license-maps/", acct),
		fmt.Sprintf(`{"account_id": %d, "license_type": "analyst", "sso_license_mapping_groups": ["analysts"]}`, acct)))
	cred := id(mk("POST", fmt.Sprintf("/api/v3/users/%d/credentials/", user),
		fmt.Sprintf(`{"account_id": %d, "project_id": %d, "credentials_id": 5, "state": 1}`, acct, project)))

	calls := []struct{ method, template, path, body string }{
		{"GET", "/api/v2/accounts/", "/api/v2/accounts/", ""},
		{"GET", "/api/v3/accounts/", "/api/v3/accounts/", ""},
		{"GET", "/api/v2/accounts/{account_id}/", fmt.Sprintf("/api/v2/accounts/%d/", acct), ""},
		{"POST", "/api/v2/accounts/{account_id}/", fmt.Sprintf("/api/v2/accounts/%d/", acct), `{"name": "Contract", "state": 1}`},
		{"GET", "/api/v2/accounts/{account_id}/users/", fmt.Sprintf("/api/v2/accounts/%d/users/", acct), ""},
		{"POST", "/api/v2/accounts/{account_id}/permissions/{id}/", fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", acct, m.ID), `{"license_type": "developer"}`},
		{"GET", "/api/v3/accounts/{account_id}/users/", fmt.Sprintf("/api/v3/accounts/%d/users/", acct), ""},
		{"GET", "/api/v3/accounts/{account_id}/users/{id}/", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", acct, user), ""},
		{"GET", "/api/v3/accounts/{account_id}/groups/", fmt.Sprintf("/api/v3/accounts/%d/groups/", acct), ""},
		{"GET", "/api/v3/accounts/{account_id}/groups/{id}/", fmt.Sprintf("/api/v3/accounts/%d/groups/%d/", acct, group), ""},
		{"POST", "/api/v3/accounts/{account_id}/groups/{id}/", fmt.Sprintf("/api/v3/accounts/%d/groups/%d/", acct, group), `{"name": "G2"}`},
		{"POST", "/api/v3/accounts/{account_id}/group-permissions/{group_id}/", fmt.Sprintf("/api/v3/accounts/%d/group-permissions/%d/", acct, group),
			`[{"permission_set": "developer", "all_projects": true}]`},
		{"POST", "/api/v3/accounts/{account_id}/assign-groups/", fmt.Sprintf("/api/v3/accounts/%d/assign-groups/", acct),
			fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, user, groupID(t, e, acct, "Owner"))},
		{"GET", "/api/v3/accounts/{account_id}/projects/", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), ""},
		{"GET", "/api/v3/accounts/{account_id}/projects/{id}/", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", acct, project), ""},
		{"POST", "/api/v3/accounts/{account_id}/projects/{id}/", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", acct, project), `{"name": "P2"}`},
		{"GET", "/api/v2/accounts/{account_id}/projects/", fmt.Sprintf("/api/v2/accounts/%d/projects/", acct), ""},
		{"GET", "/api/v2/accounts/{account_id}/licenses/", fmt.Sprintf("/api/v2/accounts/%d/licenses/", acct), ""},
		{"GET", "/api/v3/accounts/{account_id}/license-maps/", fmt.Sprintf("/api/v3/accounts/%d/license-maps/", acct), ""},
		{"POST", "/api/v3/accounts/{account_id}/license-maps/", fmt.Sprintf("/api/v3/accounts/%d/license-maps/", acct),
			fmt.Sprintf(`{"account_id": %d, "license_type": "it", "sso_license_mapping_groups": ["it-team"]}`, acct)},
		{"GET", "/api/v3/accounts/{account_id}/license-maps/{id}/", fmt.Sprintf("/api/v3/accounts/%d/license-maps/%d/", acct, licenseMap), ""},
		{"POST", "/api/v3/accounts/{account_id}/license-maps/{id}/", fmt.Sprintf("/api/v3/accounts/%d/license-maps/%d/", acct, licenseMap),
			fmt.Sprintf(`{"account_id": %d, "license_type": "developer", "state": 1}`, acct)},
		{"GET", "/api/v2/accounts/{account_id}/projects/{id}/", fmt.Sprintf("/api/v2/accounts/%d/projects/%d/", acct, project), ""},
		{"GET", "/api/v3/accounts/{account_id}/audit-logs/", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/", acct), ""},
		{"GET", "/api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/", patsPath(acct, user), ""},
		{"POST", "/api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/", patsPath(acct, user), `{"name": "more"}`},
		{"GET", "/api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", fmt.Sprintf("%s%d/", patsPath(acct, user), pat), ""},
		{"GET", "/api/v3/users/{user_id}/credentials/", fmt.Sprintf("/api/v3/users/%d/credentials/", user), ""},
		{"POST", "/api/v3/users/{user_id}/credentials/{id}/", fmt.Sprintf("/api/v3/users/%d/credentials/%d/", user, cred), `{"state": 1}`},
		{"GET", "/api/v3/accounts/{account_id}/service-tokens/", stPath(acct, ""), ""},
		{"POST", "/api/v3/accounts/{account_id}/service-tokens/", stPath(acct, ""), `{"name": "another"}`},
		{"GET", "/api/v3/accounts/{account_id}/service-tokens/{id}/", stPath(acct, fmt.Sprintf("%d/", st)), ""},
		{"PUT", "/api/v3/accounts/{account_id}/service-tokens/{id}/", stPath(acct, fmt.Sprintf("%d/", st)), `{"name": "renamed"}`},
		{"GET", "/api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/", stPath(acct, fmt.Sprintf("%d/permissions/", st)), ""},
		{"GET", "/api/v3/accounts/{account_id}/ip-restrictions/", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", acct), ""},
		{"POST", "/api/v3/accounts/{account_id}/ip-restrictions/", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", acct),
			`{"name": "deny", "type": 2, "rule_set_enabled": false, "cidrs": [{"cidr": "2001:db8::/32"}]}`},
		{"GET", "/api/v3/accounts/{account_id}/ip-restrictions/{id}", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/%d", acct, rule), ""},
		{"PUT", "/api/v3/accounts/{account_id}/ip-restrictions/{id}", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/%d", acct, rule),
			fmt.Sprintf(`{"id": %d, "account_id": %d, "name": "office", "type": 1, "rule_set_enabled": true, "cidrs": [{"cidr": "127.0.0.0/8"}]}`, rule, acct)},
		{"POST", "/api/v3/accounts/{account_id}/invites/", fmt.Sprintf("/api/v3/accounts/%d/invites/", acct),
			`{"email_addresses": ["invitee@example.com"], "license_type": "developer"}`},
		{"GET", "/api/v2/accounts/{account_id}/invites/", fmt.Sprintf("/api/v2/accounts/%d/invites/", acct), ""},
		{"POST", "/api/v3/accounts/{account_id}/ip-restrictions-set/", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions-set/", acct), `{"enabled": false}`},
		// Last: it rotates the caller's own token.
		{"POST", "/api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", fmt.Sprintf("%s%d/", patsPath(acct, user), pat), ""},
	}
	// SCIM tokens, and the SCIM endpoints with one.
	scimTok := mk("POST", fmt.Sprintf("/api/v3/accounts/%d/scim-config/tokens/", acct), `{"name": "idp"}`)
	scimID, scimAuth := id(scimTok), bearer(scimTok["token_string"].(string))
	calls = append(calls, []struct{ method, template, path, body string }{
		{"GET", "/api/v3/accounts/{account_id}/scim-config/tokens/", fmt.Sprintf("/api/v3/accounts/%d/scim-config/tokens/", acct), ""},
		{"POST", "/api/v3/accounts/{account_id}/scim-config/tokens/", fmt.Sprintf("/api/v3/accounts/%d/scim-config/tokens/", acct), `{"name": "another"}`},
		{"GET", "/api/v3/accounts/{account_id}/scim-config/tokens/{id}/", fmt.Sprintf("/api/v3/accounts/%d/scim-config/tokens/%d/", acct, scimID), ""},
		{"GET", "/api/v3/accounts/{account_id}/scim/v2/Users", fmt.Sprintf("/api/v3/accounts/%d/scim/v2/Users", acct), ""},
		{"GET", "/api/v3/accounts/{account_id}/scim/v2/Users/{user_id}", fmt.Sprintf("/api/v3/accounts/%d/scim/v2/Users/%d", acct, user), ""},
	}...)
	for _, c := range calls {
		t.Run(c.method+" "+c.template, func(t *testing.T) {
			doc := docs[strings.Split(c.template, "/")[2]]
			schema := responseSchema(doc, c.method, c.template)
			if schema == nil {
				t.Fatalf("dbt's document has no JSON answer for %s %s", c.method, c.template)
			}
			auth := tok
			if strings.Contains(c.template, "/scim/") {
				auth = scimAuth
			}
			r := e.do(c.method, c.path, auth, c.body)
			if r.Code/100 != 2 {
				t.Fatalf("got %d: %s", r.Code, r.Raw)
			}
			var body any
			if err := json.Unmarshal(r.Raw, &body); err != nil {
				t.Fatal(err)
			}
			if _, enveloped := schema.Properties["status"]; !enveloped {
				// dbt's document describes a few answers (PUT ip-restrictions/{id}) without the
				// envelope that dbt sends and its Terraform provider reads: check what is inside.
				body = body.(map[string]any)["data"]
			}
			if err := schema.VisitJSON(body, openapi3.MultiErrors()); err != nil {
				t.Errorf("the answer does not match dbt's schema:\n%v\nbody: %s", err, r.Raw)
			}
		})
	}

	// DELETE of a project answers the deleted project where dbt documents no body (dbtc and
	// dbt-cloud-cli parse one): it must be what a GET of a project is.
	t.Run("DELETE /api/v3/accounts/{account_id}/projects/{id}/ answers a project", func(t *testing.T) {
		schema := responseSchema(docs["v3"], "GET", "/api/v3/accounts/{account_id}/projects/{id}/")
		gone := id(mk("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), `{"name": "Gone"}`))
		r := e.do("DELETE", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", acct, gone), tok, "")
		if r.Code != http.StatusOK {
			t.Fatalf("got %d: %s", r.Code, r.Raw)
		}
		var body any
		if err := json.Unmarshal(r.Raw, &body); err != nil {
			t.Fatal(err)
		}
		if err := schema.VisitJSON(body, openapi3.MultiErrors()); err != nil {
			t.Errorf("the answer does not match dbt's project schema:\n%v\nbody: %s", err, r.Raw)
		}
	})
}

// writableFields returns the properties of dbt's request schema name that a client may write,
// with a value for each that differs from its default (the last value of an enum, a distinct
// number or string otherwise). account_id and state are the caller's to fill in.
func writableFields(t *testing.T, doc *openapi3.T, name string, round int) map[string]any {
	t.Helper()
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("dbt's document has no schema %s", name)
	}
	out := map[string]any{}
	n := 100 * round
	for prop, p := range ref.Value.Properties {
		s := p.Value
		for len(s.Enum) == 0 && len(s.AllOf) == 1 {
			s = s.AllOf[0].Value
		}
		n++
		switch {
		case len(s.Enum) > 0:
			out[prop] = s.Enum[(len(s.Enum)-1+round)%len(s.Enum)]
		case s.Type.Is("integer"):
			out[prop] = float64(n)
		case s.Type.Is("string"):
			out[prop] = fmt.Sprintf("%s %d", prop, round)
		case s.Type.Is("boolean"):
			out[prop] = round%2 == 1
		case s.Type.Is("array"):
			out[prop] = []any{fmt.Sprintf("%s %d", prop, round)}
		default:
			t.Fatalf("schema %s: no test value for %s", name, prop)
		}
	}
	return out
}

// checkEcho compares every sent field with what came back.
func checkEcho(t *testing.T, what string, sent map[string]any, raw []byte) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for k, want := range sent {
		if g, ok := got[k]; !ok || fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("%s: field %s: got %v, want %v as sent", what, k, g, want)
		}
	}
}

// TestProjectsEchoEveryWritableField sends every field of dbt's ProjectRequest, on create and on
// update, and reads each back from the answer and from a later GET (v3 and v2).
func TestProjectsEchoEveryWritableField(t *testing.T) {
	t.Parallel()
	doc := loadDBTSpec(t, "openapi-v3.yaml")
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Echo", "echo@example.com")
		acct, tok := a.Account.ID, bearer(a.Token)
		body := func(round int) (map[string]any, string) {
			f := writableFields(t, doc, "ProjectRequest", round)
			f["account_id"], f["state"] = float64(acct), float64(1)
			b, _ := json.Marshal(f)
			return f, string(b)
		}
		sent, b := body(1)
		r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), tok, b)
		if r.Code/100 != 2 {
			t.Fatalf("create: got %d: %s", r.Code, r.Raw)
		}
		checkEcho(t, "create", sent, r.Body.Data)
		var created struct {
			ID int64 `json:"id"`
		}
		r.data(t, &created)
		path := fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", acct, created.ID)
		checkEcho(t, "read after create", sent, e.do("GET", path, tok, "").Body.Data)

		sent, b = body(2)
		r = e.do("POST", path, tok, b)
		if r.Code != http.StatusOK {
			t.Fatalf("update: got %d: %s", r.Code, r.Raw)
		}
		checkEcho(t, "update", sent, r.Body.Data)
		checkEcho(t, "read after update", sent, e.do("GET", path, tok, "").Body.Data)
		checkEcho(t, "read through v2", sent, e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/projects/%d/", acct, created.ID), tok, "").Body.Data)

		// null clears an optional field; an absent one is left alone.
		r = e.do("POST", path, tok, `{"dbt_project_subdirectory": null, "connection_id": null}`)
		checkEcho(t, "clear", map[string]any{"dbt_project_subdirectory": nil, "connection_id": nil, "type": sent["type"],
			"repository_id": sent["repository_id"], "name": sent["name"]}, r.Body.Data)
	})
}
