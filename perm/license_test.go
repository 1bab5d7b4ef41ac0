package perm

import "testing"

func TestLicenseApply(t *testing.T) {
	admin := AccountAdmin.Caps()
	it := SecurityAdmin.Caps() | BillingAdmin.Caps()
	tests := []struct {
		name    string
		license License
		in      Caps
		want    Caps
	}{
		{"developer keeps the grants", LicenseDeveloper, admin, admin},
		{"analyst behaves like developer", LicenseAnalyst, Developer.Caps(), Developer.Caps()},
		{"read_only over account_admin", LicenseReadOnly, admin, admin.ReadOnly()},
		{"read_only over nothing", LicenseReadOnly, 0, 0},
		{"it ignores an admin group", LicenseIT, admin, it},
		{"it ignores having no group", LicenseIT, 0, it},
		{"unknown license grants nothing", License("owner"), admin, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.license.Apply(tt.in); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadOnlyLicenseCannotWrite(t *testing.T) {
	e := Evaluate([]Grant{{Set: AccountAdmin, AllProjects: true}, {Set: Admin, ProjectID: 7}}).Apply(LicenseReadOnly)
	for _, r := range Resources() {
		t.Run(r.String(), func(t *testing.T) {
			for _, pid := range []int64{0, 7, 8} {
				if e.Allows(r, Write, pid) {
					t.Errorf("Allows(%v, Write, %d) = true, want false", r, pid)
				}
				if !e.Allows(r, Read, pid) {
					t.Errorf("Allows(%v, Read, %d) = false, want true", r, pid)
				}
			}
		})
	}
}

func TestITLicense(t *testing.T) {
	// Security Admin ∪ Billing Admin, spelled out.
	want := map[Resource]string{
		AccountSettings: "R", Billing: "W", Users: "W", Licenses: "W", Groups: "W", Projects: "R",
		ServiceTokens: "R", IPRestrictions: "W", AuditLog: "R",
	}
	grants := [][]Grant{
		nil,
		{{Set: AccountAdmin, AllProjects: true}},
		{{Set: Developer, ProjectID: 3}},
	}
	for _, g := range grants {
		e := Evaluate(g).Apply(LicenseIT)
		for _, r := range Resources() {
			for _, pid := range []int64{0, 3} {
				got := ""
				switch {
				case e.Allows(r, Write, pid):
					got = "W"
				case e.Allows(r, Read, pid):
					got = "R"
				}
				if got != want[r] {
					t.Errorf("grants %v, %v in project %d: got %q, want %q", g, r, pid, got, want[r])
				}
			}
		}
	}
}

func TestLicenseTokenRights(t *testing.T) {
	tests := []struct {
		license       License
		pat, services bool
	}{
		{LicenseDeveloper, true, true},
		{LicenseAnalyst, true, true},
		{LicenseReadOnly, true, false},
		{LicenseIT, true, false},
		{License(""), false, false},
		{License("admin"), false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.license), func(t *testing.T) {
			if got := tt.license.CanCreatePAT(); got != tt.pat {
				t.Errorf("CanCreatePAT: got %v, want %v", got, tt.pat)
			}
			if got := tt.license.CanManageServiceTokens(); got != tt.services {
				t.Errorf("CanManageServiceTokens: got %v, want %v", got, tt.services)
			}
		})
	}
}

func TestLicenseValid(t *testing.T) {
	for _, l := range []License{"", "Developer", "readonly", "admin"} {
		if l.Valid() {
			t.Errorf("License(%q).Valid() = true, want false", l)
		}
	}
}
