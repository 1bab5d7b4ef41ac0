package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"tokend"
	"tokend/perm"
)

// A license change or a removal passes the same rule as assign-groups: nobody grants (or takes)
// what they do not hold, nobody changes their own license, and the last account admin stays one.
func TestLicenseEscalation(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
		a := f.Account.ID
		license := func(userID tokend.UserID) string {
			t.Helper()
			m, err := e.store.Membership(context.Background(), a, userID)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", a, m.ID)
		}
		var security groupOut
		mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Security"}`, &security)
		mustGroupCall(t, e, "POST", f.permissionsPath(tokend.GroupID(security.ID)), f.Token, `[{"permission_set": "security_admin", "all_projects": true}]`, nil)
		sec, secTok := addGroupsMember(t, e, a, "hawat@example.com", perm.LicenseDeveloper)
		setGroups(t, e, a, tokend.UserID(sec), tokend.GroupID(security.ID))
		demoted, demotedTok := addGroupsMember(t, e, a, "leto@example.com", perm.LicenseIT)
		setGroups(t, e, a, tokend.UserID(demoted), tokend.GroupID(f.owner))
		readOnly, _ := addGroupsMember(t, e, a, "alia@example.com", perm.LicenseReadOnly)
		setGroups(t, e, a, tokend.UserID(readOnly), tokend.GroupID(f.owner))
		plain, _ := addGroupsMember(t, e, a, "gurney@example.com", perm.LicenseDeveloper)

		var st struct {
			TokenString string `json:"token_string"`
		}
		r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/service-tokens/", a), bearer(f.Token),
			`{"name": "ci", "permission_grants": [{"permission_set": "account_admin", "all_projects": true}]}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
		}
		r.data(t, &st)

		tests := []struct {
			name, tok, path, body string
			want                  int
		}{
			{"admin demoted to IT restores their own license", demotedTok, license(tokend.UserID(demoted)), `{"license_type": "developer", "state": 1}`, 403},
			{"IT makes a read-only Owner a developer", demotedTok, license(tokend.UserID(readOnly)), `{"license_type": "developer", "state": 1}`, 403},
			{"security admin makes a read-only Owner a developer", secTok, license(tokend.UserID(readOnly)), `{"license_type": "developer", "state": 1}`, 403},
			{"security admin demotes the owner", secTok, license(f.User.ID), `{"license_type": "read_only", "state": 1}`, 403},
			{"security admin removes the owner", secTok, license(f.User.ID), `{"license_type": "developer", "state": 2}`, 403},
			{"security admin gives IT without billing admin", secTok, license(tokend.UserID(plain)), `{"license_type": "it", "state": 1}`, 403},
			{"security admin changes their own license", secTok, license(tokend.UserID(sec)), `{"license_type": "analyst", "state": 1}`, 403},
			{"service token demotes the last admin", st.TokenString, license(f.User.ID), `{"license_type": "read_only", "state": 1}`, 400},
			{"service token removes the last admin", st.TokenString, license(f.User.ID), `{"license_type": "developer", "state": 2}`, 400},
			{"service token takes the last admin out of Owner", st.TokenString, f.assignPath(),
				fmt.Sprintf(`{"user_id": %d, "desired_group_ids": [%d]}`, f.User.ID, f.everyone), 400},
			{"service token deletes the last admin's group", st.TokenString, f.groupsPath(fmt.Sprint(f.owner)), `{"state": 2}`, 400},
			{"service token strips the last admin's group", st.TokenString, f.permissionsPath(tokend.GroupID(f.owner)), `[{"permission_set": "job_admin", "all_projects": true}]`, 400},
			{"security admin demotes a member with no groups", secTok, license(tokend.UserID(plain)), `{"license_type": "read_only", "state": 1}`, 200},
			{"unchanged own license is no change", secTok, license(tokend.UserID(sec)), `{"license_type": "developer", "state": 1}`, 200},
			{"owner makes the read-only Owner a developer", f.Token, license(tokend.UserID(readOnly)), `{"license_type": "developer", "state": 1}`, 200},
			{"with a second admin, the owner can be demoted", st.TokenString, license(f.User.ID), `{"license_type": "read_only", "state": 1}`, 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", tt.path, bearer(tt.tok), tt.body)
				if r.Code != tt.want {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
			})
		}
		t.Run("the refused changes changed nothing", func(t *testing.T) {
			for _, c := range []struct {
				user int64
				want perm.License
			}{{demoted, perm.LicenseIT}, {sec, perm.LicenseDeveloper}, {plain, perm.LicenseReadOnly}, {readOnly, perm.LicenseDeveloper}} {
				m, err := e.store.Membership(context.Background(), a, tokend.UserID(c.user))
				if err != nil {
					t.Fatal(err)
				}
				if m.License != c.want || m.State != 1 {
					t.Errorf("user %d: got %s state %d, want %s state 1", c.user, m.License, m.State, c.want)
				}
			}
		})
	})
}
