package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tokend"
	"tokend/perm"
)

// A 403 of a valid token names the capability it lacked, in the permission table's names, and
// the permission sets that would grant it; when a person's license is the cause, it is named.
func TestRefusalNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newGroupsFixture(t, e, "Caladan", "owner@example.com")
		a := f.Account.ID
		r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), bearer(f.Token), `{"name": "Spice"}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("create project: got %d, want 201: %s", r.Code, r.Raw)
		}
		var proj struct {
			ID int64 `json:"id"`
		}
		r.data(t, &proj)
		newST := func(grant string) string {
			t.Helper()
			r := e.do("POST", stPath(a, ""), bearer(f.Token), `{"name": "ci", "permission_grants": [`+grant+`]}`)
			if r.Code != http.StatusCreated {
				t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
			}
			var st serviceTokenBody
			r.data(t, &st)
			return *st.TokenString
		}
		viewer := newST(fmt.Sprintf(`{"permission_set": "job_viewer", "project_id": %d}`, proj.ID))
		readOnly, _ := addGroupsMember(t, e, a, "alia@example.com", perm.LicenseReadOnly)
		setGroups(t, e, a, tokend.UserID(readOnly), tokend.GroupID(f.owner))
		roTok := mintPAT(t, e, a, tokend.UserID(readOnly))

		granted := func(r perm.Resource, acc perm.Access) string {
			var names []string
			for _, s := range perm.GrantedBy(r, acc) {
				names = append(names, string(s))
			}
			return strings.Join(names, ", ")
		}
		tests := []struct {
			name, tok, method, path, body string
			wantPerm, wantGranted         string
			wantLicense                   string
		}{
			{"service token creates a project", viewer, "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), `{"name": "x"}`,
				"projects:write", granted(perm.Projects, perm.Write), ""},
			{"service token reads the audit log", viewer, "GET", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/", a), "",
				"audit_log:read", granted(perm.AuditLog, perm.Read), ""},
			{"read-only owner renames a project", roTok, "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, proj.ID), `{"name": "y"}`,
				"projects:write", granted(perm.Projects, perm.Write), "read_only"},
			{"read-only owner creates a service token", roTok, "POST", stPath(a, ""), `{"name": "z", "permission_grants": []}`,
				"service_tokens:write", granted(perm.ServiceTokens, perm.Write), "read_only"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, bearer(tt.tok), tt.body)
				if r.Code != http.StatusForbidden {
					t.Fatalf("got %d, want 403: %s", r.Code, r.Raw)
				}
				if got := r.Header.Get("X-Tokend-Required-Permission"); got != tt.wantPerm {
					t.Errorf("X-Tokend-Required-Permission: got %q, want %q", got, tt.wantPerm)
				}
				if got := r.Header.Get("X-Tokend-Granted-By"); got != tt.wantGranted || got == "" {
					t.Errorf("X-Tokend-Granted-By: got %q, want %q", got, tt.wantGranted)
				}
				if got := r.Header.Get("X-Tokend-License"); got != tt.wantLicense {
					t.Errorf("X-Tokend-License: got %q, want %q", got, tt.wantLicense)
				}
				dev := r.Body.Status.DeveloperMessage
				if !strings.Contains(dev, tt.wantPerm) || !strings.Contains(dev, tt.wantGranted) {
					t.Errorf("developer_message: got %q, want it to name %s and %s", dev, tt.wantPerm, tt.wantGranted)
				}
				if tt.wantLicense != "" && !strings.Contains(dev, tt.wantLicense) {
					t.Errorf("developer_message: got %q, want it to name the license %s", dev, tt.wantLicense)
				}
			})
		}
	})
}

// A refusal speaks in the caller's terms: what they may not do, why, and what to do about it.
// It never names internal ids the caller did not send (their own user or account id, a
// group's id) nor a Go error.
func TestRefusalsNameNoInternalIDs(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newGroupsFixture(t, e, "Caladan", "owner@example.com")
		a := f.Account.ID
		other := e.initAccount("Giedi Prime", "baron@example.com")
		team := e.initAccountOn(perm.PlanTeam, "Ix", "ix@example.com")

		readOnly, _ := addGroupsMember(t, e, a, "alia@example.com", perm.LicenseReadOnly)
		setGroups(t, e, a, tokend.UserID(readOnly), tokend.GroupID(f.owner))
		roTok := mintPAT(t, e, a, tokend.UserID(readOnly))
		// A member of the other account who joins this one: only an operator sets their password.
		joinElsewhere(t, e, f.Token, a, `{"email": "baron@example.com", "license_type": "developer"}`, other.User.ID, other.Token)

		tests := []struct {
			name, tok, method, path, body string
			wantCode                      int
			wantSays                      string  // a phrase the message must hold
			internal                      []int64 // ids that must not appear
		}{
			{"token of another account", other.Token, "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), "",
				http.StatusForbidden, "another account", []int64{int64(other.Account.ID), int64(other.User.ID)}},
			{"read-only license writes", roTok, "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), `{"name": "x"}`,
				http.StatusForbidden, "Read-only", []int64{readOnly, int64(a)}},
			{"IP restrictions below Enterprise+", team.Token, "POST", fmt.Sprintf("/api/v3/accounts/%d/ip-restrictions/", team.Account.ID),
				`{"name": "x", "type": 1, "cidrs": [{"cidr": "127.0.0.1"}]}`,
				http.StatusForbidden, "Enterprise+", []int64{int64(team.Account.ID), int64(team.User.ID)}},
			{"reset link for a member of other accounts", f.Token, "POST",
				fmt.Sprintf("/api/tokend/v1/accounts/%d/users/%d/password-reset/", a, other.User.ID), "",
				http.StatusForbidden, "tokend user set-password", []int64{int64(other.User.ID), int64(a), int64(f.User.ID)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, bearer(tt.tok), tt.body)
				if r.Code != tt.wantCode {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.wantCode, r.Raw)
				}
				msg := r.Body.Status.UserMessage
				if !strings.Contains(msg, tt.wantSays) {
					t.Errorf("user_message: got %q, want it to say %q", msg, tt.wantSays)
				}
				for _, text := range []string{msg, r.Body.Status.DeveloperMessage} {
					for _, id := range tt.internal {
						if regexp.MustCompile(`\b` + strconv.FormatInt(id, 10) + `\b`).MatchString(text) {
							t.Errorf("message: got %q, want no internal id %d in it", text, id)
						}
					}
				}
			})
		}
	})
}
