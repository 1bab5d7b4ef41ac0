package perm

import (
	"fmt"
	"strings"
)

// Plan is an account's plan, named as in dbt's OpenAPI PlanEnum. The canonical
// values are the names dbt uses for each plan family today.
type Plan string

// The canonical plans, one per family.
const (
	PlanDeveloper      Plan = "developer"
	PlanStarter        Plan = "starter_2025"
	PlanTeam           Plan = "team" // legacy Team
	PlanEnterprise     Plan = "enterprise"
	PlanEnterprisePlus Plan = "enterprise_plus_2025"
)

// planNames is every name ParsePlan accepts and the canonical plan it stands
// for. cancelled, cancelled_2022 and cancelled_2025 are refused.
var planNames = [...]struct {
	name string
	plan Plan
}{
	{"developer", PlanDeveloper},
	{"developer_2022", PlanDeveloper},
	{"free", PlanDeveloper}, // the single-seat free tier before "developer"
	{"starter_2025", PlanStarter},
	{"starter", PlanStarter},
	// Trials are treated as Starter, the most restrictive paid family: a
	// trial account gets no more than what it would get after paying least.
	{"trial", PlanStarter},
	{"trial_2022", PlanStarter},
	{"trial_2025", PlanStarter},
	// The 2026 usage-based plans: dbt's docs call the Enterprise tiers
	// "managed", so usage_managed_2026 is Enterprise and plain usage_2026 is
	// self-serve, i.e. Starter.
	{"usage_2026", PlanStarter},
	{"team", PlanTeam},
	{"team_2022", PlanTeam},
	{"team_annual", PlanTeam},
	{"enterprise", PlanEnterprise},
	{"enterprise_2025", PlanEnterprise},
	{"usage_managed_2026", PlanEnterprise},
	{"enterprise_plus_2025", PlanEnterprisePlus},
	{"enterprise_plus", PlanEnterprisePlus},
}

// Plans returns the canonical plans, smallest first.
func Plans() []Plan {
	return []Plan{PlanDeveloper, PlanStarter, PlanTeam, PlanEnterprise, PlanEnterprisePlus}
}

const allowedPlans = "developer, starter_2025 (or starter), team, enterprise, enterprise_plus_2025 (or enterprise_plus), or another plan name of dbt's PlanEnum"

// ParsePlan returns the canonical plan for s, which may be a canonical name,
// a short family name ("starter", "enterprise_plus") or any other name of
// dbt's PlanEnum except the cancelled ones. Case and surrounding space are
// ignored.
func ParsePlan(s string) (Plan, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if p, ok := canonical(name); ok {
		return p, nil
	}
	if strings.HasPrefix(name, "cancelled") {
		return "", fmt.Errorf("plan %q is a cancelled plan and cannot be used: want %s", s, allowedPlans)
	}
	return "", fmt.Errorf("unknown plan %q: want %s", s, allowedPlans)
}

func canonical(name string) (Plan, bool) {
	for _, n := range planNames {
		if n.name == name {
			return n.plan, true
		}
	}
	return "", false
}

// AcceptedNames returns every name ParsePlan turns into p's canonical plan.
func (p Plan) AcceptedNames() []string {
	c, ok := canonical(string(p))
	if !ok {
		return nil
	}
	var out []string
	for _, n := range planNames {
		if n.plan == c {
			out = append(out, n.name)
		}
	}
	return out
}

// Family returns "developer", "starter", "team", "enterprise" or
// "enterprise_plus", for messages and docs; "" for an unknown plan.
func (p Plan) Family() string {
	c, _ := canonical(string(p))
	switch c {
	case PlanDeveloper:
		return "developer"
	case PlanStarter:
		return "starter"
	case PlanTeam:
		return "team"
	case PlanEnterprise:
		return "enterprise"
	case PlanEnterprisePlus:
		return "enterprise_plus"
	}
	return ""
}

// AllowsServiceTokenSet reports whether a service token of an account on
// plan p may hold permission set s. Enterprise and Enterprise+: any set.
// Developer and Starter: semantic_layer_only. Legacy Team: account_admin
// (shown as Owner, so owner too), billing_admin, job_admin, metadata_only,
// member, readonly, semantic_layer_only. An unknown plan allows nothing.
func (p Plan) AllowsServiceTokenSet(s Set) bool {
	switch p.Family() {
	case "enterprise", "enterprise_plus":
		return s.Valid()
	case "developer", "starter":
		return s == SemanticLayerOnly
	case "team":
		switch s {
		case AccountAdmin, Owner, BillingAdmin, JobAdmin, MetadataOnly, Member, Readonly, SemanticLayerOnly:
			return true
		}
	}
	return false
}

// SetLabel is Label as shown on plan p: the Team plan calls account_admin "Owner".
func (p Plan) SetLabel(s Set) string {
	if s == AccountAdmin && p.Family() == "team" {
		return "Owner"
	}
	return s.Label()
}
