package perm

import (
	"slices"
	"strings"
	"testing"
)

func TestPlanAllowsServiceTokenSet(t *testing.T) {
	// Spelled out from the product spec, independent of the implementation.
	every := []Set{
		"account_admin", "account_viewer", "admin", "analyst", "analyst_read", "billing_admin",
		"cost_insights_admin", "cost_insights_viewer", "cost_management_admin", "cost_management_viewer",
		"database_admin", "developer", "fusion_admin", "git_admin", "job_admin", "job_creator", "job_runner",
		"job_viewer", "manage_marketplace_apps", "member", "metadata_only", "notification_manager", "owner",
		"project_creator", "readonly", "scim_only", "security_admin", "semantic_layer_only", "stakeholder",
		"team_admin", "webhooks_only",
	}
	semanticOnly := []Set{"semantic_layer_only"}
	team := []Set{
		"account_admin", "billing_admin", "job_admin", "member", "metadata_only", "owner", "readonly",
		"semantic_layer_only",
	}
	tests := []struct {
		plan Plan
		want []Set
	}{
		{PlanDeveloper, semanticOnly},
		{PlanStarter, semanticOnly},
		{PlanTeam, team},
		{PlanEnterprise, every},
		{PlanEnterprisePlus, every},
		{Plan("team_2022"), team},
		{Plan("enterprise_2025"), every},
		{Plan("unknown"), nil},
	}
	candidates := append(slices.Clone(every), "", "superuser")
	for _, tt := range tests {
		t.Run(string(tt.plan), func(t *testing.T) {
			for _, s := range candidates {
				if got, want := tt.plan.AllowsServiceTokenSet(s), slices.Contains(tt.want, s); got != want {
					t.Errorf("AllowsServiceTokenSet(%q): got %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestParsePlan(t *testing.T) {
	tests := []struct {
		in     string
		want   Plan
		family string
	}{
		{"developer", PlanDeveloper, "developer"},
		{"developer_2022", PlanDeveloper, "developer"},
		{"free", PlanDeveloper, "developer"},
		{"starter_2025", PlanStarter, "starter"},
		{"starter", PlanStarter, "starter"},
		{"trial", PlanStarter, "starter"},
		{"trial_2022", PlanStarter, "starter"},
		{"trial_2025", PlanStarter, "starter"},
		{"usage_2026", PlanStarter, "starter"},
		{"team", PlanTeam, "team"},
		{"team_2022", PlanTeam, "team"},
		{"team_annual", PlanTeam, "team"},
		{"enterprise", PlanEnterprise, "enterprise"},
		{"enterprise_2025", PlanEnterprise, "enterprise"},
		{"usage_managed_2026", PlanEnterprise, "enterprise"},
		{"enterprise_plus_2025", PlanEnterprisePlus, "enterprise_plus"},
		{"enterprise_plus", PlanEnterprisePlus, "enterprise_plus"},
		{" Enterprise_Plus ", PlanEnterprisePlus, "enterprise_plus"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePlan(tt.in)
			if err != nil {
				t.Fatalf("ParsePlan(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if f := got.Family(); f != tt.family {
				t.Errorf("Family() = %q, want %q", f, tt.family)
			}
		})
	}
}

func TestParsePlanErrors(t *testing.T) {
	tests := []struct {
		in      string
		mention string
	}{
		{"", "unknown plan"},
		{"gold", `unknown plan "gold"`},
		{"enterprise+", "unknown plan"},
		{"cancelled", "cancelled"},
		{"cancelled_2022", "cancelled"},
		{"cancelled_2025", "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePlan(tt.in)
			if err == nil {
				t.Fatalf("ParsePlan(%q) = %q, nil; want an error", tt.in, p)
			}
			msg := err.Error()
			for _, want := range []string{tt.mention, "developer", "starter", "team", "enterprise", "enterprise_plus"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestPlanFamilyUnknown(t *testing.T) {
	for _, p := range []Plan{"", "cancelled", "Team"} {
		if f := p.Family(); f != "" {
			t.Errorf("Plan(%q).Family() = %q, want \"\"", p, f)
		}
	}
}

func TestPlanSetLabel(t *testing.T) {
	tests := []struct {
		plan Plan
		set  Set
		want string
	}{
		{PlanTeam, AccountAdmin, "Owner"},
		{Plan("team_annual"), AccountAdmin, "Owner"},
		{PlanTeam, JobAdmin, "Job Admin"},
		{PlanEnterprise, AccountAdmin, "Account Admin"},
		{PlanStarter, SemanticLayerOnly, "Semantic Layer Only"},
	}
	for _, tt := range tests {
		t.Run(string(tt.plan)+"/"+string(tt.set), func(t *testing.T) {
			if got := tt.plan.SetLabel(tt.set); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlansAreCanonical(t *testing.T) {
	for _, p := range Plans() {
		t.Run(string(p), func(t *testing.T) {
			got, err := ParsePlan(string(p))
			if err != nil || got != p {
				t.Errorf("ParsePlan(%q) = %q, %v; want %q, nil", p, got, err, p)
			}
			if names := p.AcceptedNames(); len(names) == 0 || names[0] != string(p) {
				t.Errorf("AcceptedNames() = %v, want the canonical name first", names)
			}
		})
	}
}
