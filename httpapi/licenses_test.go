package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

type licenseMapBody struct {
	ID          int64    `json:"id"`
	AccountID   int64    `json:"account_id"`
	LicenseType string   `json:"license_type"`
	State       int      `json:"state"`
	Groups      []string `json:"sso_license_mapping_groups"`
}

// TestLicenseMaps: license maps as the OpenAPI document and the Terraform provider use them —
// create, read, update, list by pk and order_by, delete (204, then 404), every writable field
// echoed, bad input named.
func TestLicenseMaps(t *testing.T) {
	t.Parallel()
	doc := loadDBTSpec(t, "openapi-v3.yaml")
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Maps", "owner@example.com")
		other := e.initAccount("Elsewhere", "other@example.com")
		acct, tok := a.Account.ID, bearer(a.Token)
		base := fmt.Sprintf("/api/v3/accounts/%d/license-maps/", acct)

		sent := writableFields(t, doc, "LicenseMapRequest", 1)
		sent["account_id"], sent["state"] = float64(acct), float64(1)
		b, _ := json.Marshal(sent)
		r := e.do("POST", base, tok, string(b))
		if r.Code/100 != 2 {
			t.Fatalf("create: got %d: %s", r.Code, r.Raw)
		}
		checkEcho(t, "create", sent, r.Body.Data)
		var m licenseMapBody
		r.data(t, &m)
		path := fmt.Sprintf("%s%d/", base, m.ID)
		checkEcho(t, "read", sent, e.do("GET", path, tok, "").Body.Data)

		// The Terraform provider's update: the whole object.
		r = e.do("POST", path, tok, fmt.Sprintf(`{"id": %d, "account_id": %d, "license_type": "read_only", "state": 1, "sso_license_mapping_groups": ["readers", "auditors"]}`, m.ID, acct))
		var up licenseMapBody
		r.data(t, &up)
		if r.Code != http.StatusOK || up.LicenseType != "read_only" || !slices.Equal(up.Groups, []string{"readers", "auditors"}) {
			t.Errorf("update: got %d %+v, want read_only with readers, auditors", r.Code, up)
		}
		// A partial update leaves the rest alone.
		r = e.do("POST", path, tok, `{"license_type": "analyst"}`)
		r.data(t, &up)
		if up.LicenseType != "analyst" || !slices.Equal(up.Groups, []string{"readers", "auditors"}) {
			t.Errorf("partial update: got %+v, want analyst with the groups kept", up)
		}

		second := e.do("POST", base, tok, fmt.Sprintf(`{"account_id": %d, "license_type": "developer", "sso_license_mapping_groups": ["engineers"]}`, acct))
		var m2 licenseMapBody
		second.data(t, &m2)
		for _, tc := range []struct {
			query string
			want  []int64
		}{
			{"", []int64{m.ID, m2.ID}},
			{fmt.Sprintf("?pk=%d", m2.ID), []int64{m2.ID}},
			{"?order_by=license_type", []int64{m.ID, m2.ID}},
			{"?order_by=-license_type", []int64{m2.ID, m.ID}},
			{"?order_by=-id", []int64{m2.ID, m.ID}},
		} {
			var ms []licenseMapBody
			e.do("GET", base+tc.query, tok, "").data(t, &ms)
			var got []int64
			for _, x := range ms {
				got = append(got, x.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("list%s: got %v, want %v", tc.query, got, tc.want)
			}
		}

		for _, tc := range []struct{ body, field string }{
			{fmt.Sprintf(`{"account_id": %d, "license_type": "owner"}`, acct), "license_type"},
			{fmt.Sprintf(`{"account_id": %d}`, acct), "license_type"},
			{fmt.Sprintf(`{"account_id": %d, "license_type": "it", "sso_license_mapping_groups": [""]}`, acct), "sso_license_mapping_groups"},
			{fmt.Sprintf(`{"account_id": %d, "license_type": "it", "state": 2}`, acct), "state"},
			{fmt.Sprintf(`{"account_id": %d, "license_type": "it"}`, other.Account.ID), "account_id"},
		} {
			r := e.do("POST", base, tok, tc.body)
			if r.Code != http.StatusBadRequest || r.Body.Status.DeveloperMessage != "invalid field: "+tc.field {
				t.Errorf("create %s: got %d %q, want 400 naming %s", tc.body, r.Code, r.Body.Status.DeveloperMessage, tc.field)
			}
		}
		if r := e.do("GET", path, bearer(other.Token), ""); r.Code != http.StatusForbidden {
			t.Errorf("another account's token: got %d, want 403", r.Code)
		}
		if r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/license-maps/%d/", other.Account.ID, m.ID), bearer(other.Token), ""); r.Code != http.StatusNotFound {
			t.Errorf("a map through another account's path: got %d, want 404", r.Code)
		}

		if code, body := e.doNoBody("DELETE", path, tok); code != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("delete: got %d with %d bytes, want 204", code, len(body))
		}
		if r := e.do("GET", path, tok, ""); r.Code != http.StatusNotFound || r.Body.Status.Code != http.StatusNotFound {
			t.Errorf("GET after delete: got %d, want 404", r.Code)
		}
		if r := e.do("DELETE", path, tok, ""); r.Code != http.StatusNotFound {
			t.Errorf("second delete: got %d, want 404", r.Code)
		}
		var left []licenseMapBody
		e.do("GET", base+"?state=deleted", tok, "").data(t, &left)
		if len(left) != 1 || left[0].ID != m.ID || left[0].State != 2 {
			t.Errorf("deleted list: got %+v, want map %d in state 2", left, m.ID)
		}
	})
}

// TestLicenseAllocation: GET /api/v2/accounts/{a}/licenses counts the account's active members
// by license.
func TestLicenseAllocation(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Seats", "owner@example.com")
		acct := a.Account.ID
		for i, l := range []string{"developer", "read_only", "read_only", "it"} {
			addUser(t, e, a.Token, acct, fmt.Sprintf(`{"email": "u%d@example.com", "license_type": %q}`, i, l))
		}
		for _, path := range []string{"/api/v2/accounts/%d/licenses", "/api/v2/accounts/%d/licenses/"} {
			r := e.do("GET", fmt.Sprintf(path, acct), bearer(a.Token), "")
			var got []map[string]struct {
				Limited        bool `json:"limited"`
				InUse          int  `json:"in_use"`
				Assigned       int  `json:"assigned"`
				EnterprisePlan bool `json:"enterprise_plan"`
			}
			r.data(t, &got)
			if r.Code != http.StatusOK || len(got) != 1 {
				t.Fatalf("got %d %s, want one allocation", r.Code, r.Raw)
			}
			for l, want := range map[string]int{"developer": 2, "read_only": 2, "it": 1, "analyst": 0, "explorer": 0} {
				d := got[0][l]
				if d.InUse != want || d.Assigned != want || d.Limited || !d.EnterprisePlan {
					t.Errorf("%s: got %+v, want %d in use, unlimited, enterprise", l, d, want)
				}
			}
		}
	})
}
