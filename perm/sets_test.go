package perm

import (
	"slices"
	"testing"
)

// capsOf spells a Caps out per resource: "W", "R" or "" for each resource.
func capsOf(tb testing.TB, c Caps) map[Resource]string {
	tb.Helper()
	out := map[Resource]string{}
	for _, r := range Resources() {
		switch {
		case c.Has(r, Write):
			out[r] = "W"
		case c.Has(r, Read):
			out[r] = "R"
		}
	}
	return out
}

func TestSetCaps(t *testing.T) {
	const R, W = "R", "W"
	tests := []struct {
		set  Set
		want map[Resource]string
	}{
		{BillingAdmin, map[Resource]string{Billing: W}},
		{SemanticLayerOnly, map[Resource]string{SemanticLayer: W}},
		{MetadataOnly, map[Resource]string{Metadata: R}},
		{WebhooksOnly, map[Resource]string{Webhooks: W}},
		{JobRunner, map[Resource]string{Jobs: R}},
		{FusionAdmin, map[Resource]string{}},
		{SecurityAdmin, map[Resource]string{
			AccountSettings: R, AuditLog: R, ServiceTokens: R, Projects: R,
			Users: W, Licenses: W, Groups: W, IPRestrictions: W}},
		{JobAdmin, map[Resource]string{
			Licenses: R, Connections: R, Projects: R, Metadata: R, SemanticLayer: R,
			Environments: W, Jobs: W}},
		{Developer, map[Resource]string{
			Users: R, Licenses: R, Groups: R, Connections: R, Projects: R, Environments: R, Jobs: R,
			Metadata: R, SemanticLayer: R, Webhooks: W, Credentials: W}},
	}
	for _, tt := range tests {
		t.Run(string(tt.set), func(t *testing.T) {
			got := capsOf(t, tt.set.Caps())
			for _, r := range Resources() {
				if got[r] != tt.want[r] {
					t.Errorf("%v: got %q, want %q", r, got[r], tt.want[r])
				}
			}
		})
	}
}

func TestSetInvariants(t *testing.T) {
	t.Run("account_admin and owner write everything", func(t *testing.T) {
		for _, s := range []Set{AccountAdmin, Owner} {
			for _, r := range Resources() {
				if !s.Caps().Has(r, Write) {
					t.Errorf("%s cannot write %v", s, r)
				}
			}
		}
	})
	t.Run("readonly and stakeholder are identical", func(t *testing.T) {
		if Readonly.Caps() != Stakeholder.Caps() {
			t.Errorf("readonly %v, stakeholder %v", Readonly.Caps(), Stakeholder.Caps())
		}
	})
	t.Run("only account admins write service tokens", func(t *testing.T) {
		for _, s := range Sets() {
			if got, want := s.Caps().Has(ServiceTokens, Write), s == AccountAdmin || s == Owner; got != want {
				t.Errorf("%s writes service tokens: got %v, want %v", s, got, want)
			}
		}
	})
	t.Run("only project creators write projects", func(t *testing.T) {
		creators := []Set{AccountAdmin, Member, Owner, ProjectCreator}
		for _, s := range Sets() {
			if got, want := s.Caps().Has(Projects, Write), slices.Contains(creators, s); got != want {
				t.Errorf("%s writes projects: got %v, want %v", s, got, want)
			}
		}
	})
}

func TestSetLabel(t *testing.T) {
	tests := []struct {
		set  Set
		want string
	}{
		{AccountAdmin, "Account Admin"},
		{SemanticLayerOnly, "Semantic Layer Only"},
		{Readonly, "Read-Only"},
		{ScimOnly, "SCIM Only"},
		{Set("nope"), "nope"},
	}
	for _, tt := range tests {
		t.Run(string(tt.set), func(t *testing.T) {
			if got := tt.set.Label(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnknownSet(t *testing.T) {
	for _, s := range []Set{"", "Account_Admin", "superuser"} {
		t.Run(string(s), func(t *testing.T) {
			if s.Valid() {
				t.Errorf("Valid() = true, want false")
			}
			if got := s.Caps(); got != 0 {
				t.Errorf("Caps() = %v, want none", got)
			}
			if s.SupportsEnvironmentCategories() {
				t.Errorf("SupportsEnvironmentCategories() = true, want false")
			}
		})
	}
}

func TestSupportsEnvironmentCategories(t *testing.T) {
	// dbt "Environment-level permissions": the sets that take environment
	// write access.
	want := []Set{Analyst, DatabaseAdmin, Developer, GitAdmin, TeamAdmin}
	for _, s := range Sets() {
		t.Run(string(s), func(t *testing.T) {
			if got := s.SupportsEnvironmentCategories(); got != slices.Contains(want, s) {
				t.Errorf("got %v, want %v", got, !got)
			}
		})
	}
}
