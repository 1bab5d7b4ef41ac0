// Package permdoc renders docs/permissions.md from package perm's exported
// API, so the document shows exactly what the code does.
package permdoc

import (
	"bytes"
	"fmt"
	"strings"

	"tokend/perm"
)

// Path is the document's path from the module root.
const Path = "docs/permissions.md"

var descriptions = map[perm.Resource]string{
	perm.AccountSettings: "the account's name and settings",
	perm.Billing:         "plan, usage and invoices",
	perm.Users:           "the account's members and invitations",
	perm.Licenses:        "members' license types",
	perm.Groups:          "groups, who is in them and what they grant",
	perm.Projects:        "projects; W includes creating and deleting them",
	perm.ServiceTokens:   "service tokens and their grants",
	perm.IPRestrictions:  "IP allow and deny rules",
	perm.AuditLog:        "the account's audit log",
	perm.Connections:     "data-platform connections",
	perm.Environments:    "environments and their settings",
	perm.Jobs:            "jobs and their runs",
	perm.Webhooks:        "outbound webhooks",
	perm.Metadata:        "the Discovery (metadata) API",
	perm.SemanticLayer:   "Semantic Layer configuration and queries",
	perm.Credentials:     "a user's own development credentials in a project",
}

// notes records where dbt's documentation is silent, ambiguous or does not
// fit tokend's resources, and what perm decided. Less access wins.
var notes = []string{
	"Sources: dbt's \"Enterprise permissions\" page (its four tables and the description of each set), " +
		"\"Starter permissions\" (self-service; the Owner and Member sets), \"Seats and users\" (licenses), " +
		"\"Environment-level permissions\", and the service-token page and product spec for plans.",
	"`users` stands for dbt's Members and Invitations rows and takes its value from Members. Every set that " +
		"writes Members also writes Invitations; an Invitations R without Members (analyst, job_admin) is not granted.",
	"`projects` W is given only to sets that may also create projects (dbt's \"Project (create)\" row): " +
		"account_admin, owner, project_creator and member. admin, database_admin, git_admin and team_admin may " +
		"edit existing projects in dbt but get R here, because one bit cannot tell creating a project from " +
		"editing one and dbt says only Account admin and Project creator create projects.",
	"`jobs` stands for dbt's Jobs and Runs rows: R if either is readable, W only from Jobs. job_runner, which " +
		"dbt lets trigger runs, is read-only here because a W would also let it edit jobs.",
	"Cells dbt marks R* (writable through environment write access) are R. " +
		"writable_environment_categories is validated and stored but never raises a capability: tokend has no " +
		"environment-level resource.",
	"`credentials` follows dbt's \"Develop (IDE or CLI)\" row (whoever develops keeps their own credentials), " +
		"plus analyst_read, which dbt gives user_credential_write. Deployment credentials belong to environments.",
	"dbt's tables for project-level sets have no audit-log row, so those sets get no `audit_log` " +
		"(stakeholder's \"limited audit log\" is not granted).",
	"account_admin and owner get W on every resource, including `audit_log` and `metadata`, which dbt shows " +
		"as R; both are read-only APIs, so W adds nothing.",
	"Not in dbt's tables: cost_management_admin and cost_management_viewer grant nothing; scim_only gets W " +
		"on `users`, `groups` and `licenses`, what a SCIM token provisions; webhooks_only follows the \"Webhook\" " +
		"column of dbt's 2024 tables.",
	"Permissions with no tokend resource are dropped: auth provider (security_admin), public models, " +
		"repositories, custom environment variables, Cost Insights settings, job notifications " +
		"(notification_manager), marketplace app (manage_marketplace_apps) and Fusion upgrade (fusion_admin). " +
		"fusion_admin and manage_marketplace_apps therefore grant nothing here.",
	"Where the newest dbt table contradicts the set's own description, the description wins: no " +
		"`account_settings` for stakeholder/readonly (\"without access to account settings\"), no account-level " +
		"reads for semantic_layer_only and no `licenses` for job_runner (\"no other access\").",
	"member is the Starter/Team Member set from the self-service table. On Enterprise dbt says the Member " +
		"group's set equals Admin; tokend uses the one table that lists Member. Its Catalog W becomes " +
		"`metadata` R.",
	"An unknown license grants nothing. IT's capabilities apply account-wide and in every project.",
	"Plans: `free` and `developer_2022` are Developer; every trial and `usage_2026` count as Starter, the " +
		"most restrictive paid family; `usage_managed_2026` is Enterprise (dbt calls Enterprise tiers " +
		"\"managed\"); cancelled plans are refused.",
	"dbt says fusion_admin cannot be given to service tokens; tokend follows its product spec, which lets " +
		"Enterprise and Enterprise+ tokens hold any set.",
}

// Render returns the document.
func Render() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("<!-- Code generated by \"go generate ./perm\" (perm/internal/gendocs). DO NOT EDIT. -->\n\n")
	p("# Permissions\n\n")
	p("Generated from package `perm`; do not edit by hand. Change `perm/sets.go` (the table) or\n")
	p("`perm/internal/permdoc` (the prose), then run `go generate ./perm`. `go test ./perm` fails while\n")
	p("this file is stale.\n\n")

	p("## Resources\n\n")
	p("| resource | level | covers |\n|---|---|---|\n")
	for _, r := range perm.Resources() {
		p("| `%s` | %s | %s |\n", r, r.Level(), descriptions[r])
	}
	p("\nAn **account-level** resource is granted account-wide by any grant that carries it, whatever the\n")
	p("grant's project scope. A **project-level** resource is granted only in the grant's projects; a request\n")
	p("that is not about one project (create, or list across the account) needs an all-projects grant.\n")
	p("A principal's grants add up: the most permissive one wins.\n\n")

	p("## Permission sets\n\n")
	p("R read, W write (includes read), – nothing. Level: A account, P project. \"env\" marks the sets that\n")
	p("take `writable_environment_categories`.\n\n")
	p("| set | label |")
	for _, r := range perm.Resources() {
		p(" %s |", r)
	}
	p(" env |\n|---|---|")
	for range perm.Resources() {
		p(":-:|")
	}
	p(":-:|\n| *level* | |")
	for _, r := range perm.Resources() {
		p(" %s |", strings.ToUpper(r.Level().String()[:1]))
	}
	p(" |\n")
	for _, s := range perm.Sets() {
		p("| `%s` | %s |", s, s.Label())
		c := s.Caps()
		for _, r := range perm.Resources() {
			p(" %s |", cell(c, r))
		}
		env := "–"
		if s.SupportsEnvironmentCategories() {
			env = "yes"
		}
		p(" %s |\n", env)
	}

	p("\n## Licenses\n\n")
	p("A member's license overrides what their groups grant (a Read-Only member of an admin group is still\n")
	p("read-only). Service tokens have no license.\n\n")
	p("| license | creates PATs | manages service tokens (with account admin) | effect on the groups' capabilities |\n|---|:-:|:-:|---|\n")
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, l := range perm.LicenseTypes() {
		p("| `%s` | %s | %s | %s |\n", l, yes(l.CanCreatePAT()), yes(l.CanManageServiceTokens()), licenseEffect(l))
	}

	p("\n## Service tokens by plan\n\n")
	p("Which permission sets a service token may hold; any other grant is refused with a 400 naming the set\n")
	p("and the plan. Plan names are dbt's PlanEnum; cancelled plans are refused.\n\n")
	p("| plan family | plan names | permission sets |\n|---|---|---|\n")
	for _, plan := range perm.Plans() {
		var names []string
		for _, n := range plan.AcceptedNames() {
			names = append(names, "`"+n+"`")
		}
		p("| %s | %s | %s |\n", plan.Family(), strings.Join(names, ", "), allowedSets(plan))
	}

	p("\n## Writable environment categories\n\n")
	var cats []string
	for _, c := range perm.EnvironmentCategories() {
		cats = append(cats, "`"+c+"`")
	}
	var envSets []string
	for _, s := range perm.Sets() {
		if s.SupportsEnvironmentCategories() {
			envSets = append(envSets, "`"+string(s)+"`")
		}
	}
	p("Accepted values: %s. `other` is dbt's \"General\" environment type.\n\n", strings.Join(cats, ", "))
	p("Sets that take them: %s. A grant of any other set that names categories\n", strings.Join(envSets, ", "))
	p("is refused.\n\n")
	p("In dbt the categories make jobs and runs writable in those environment types. tokend validates and\n")
	p("stores them but has no environment-level resource, so they change no capability.\n\n")

	p("## Notes\n\n")
	for _, n := range notes {
		p("- %s\n", n)
	}
	return b.Bytes()
}

func cell(c perm.Caps, r perm.Resource) string {
	switch {
	case c.Has(r, perm.Write):
		return "W"
	case c.Has(r, perm.Read):
		return "R"
	}
	return "–"
}

func licenseEffect(l perm.License) string {
	full := perm.AccountAdmin.Caps()
	switch got := l.Apply(full); {
	case got == full:
		return "none: the grants apply as they are"
	case got == full.ReadOnly():
		return "every W becomes R; groups cannot give it any write"
	default:
		return fmt.Sprintf("groups ignored; exactly %s ∪ %s, account-wide: %s",
			perm.SecurityAdmin.Label(), perm.BillingAdmin.Label(), capsList(got))
	}
}

func capsList(c perm.Caps) string {
	var parts []string
	for _, r := range perm.Resources() {
		if v := cell(c, r); v != "–" {
			parts = append(parts, fmt.Sprintf("`%s` %s", r, v))
		}
	}
	return strings.Join(parts, ", ")
}

func allowedSets(plan perm.Plan) string {
	var names []string
	for _, s := range perm.Sets() {
		if !plan.AllowsServiceTokenSet(s) {
			continue
		}
		n := "`" + string(s) + "`"
		if l := plan.SetLabel(s); l != s.Label() {
			n += fmt.Sprintf(" (shown as %q)", l)
		}
		names = append(names, n)
	}
	if len(names) == len(perm.Sets()) {
		return fmt.Sprintf("any (all %d)", len(names))
	}
	return strings.Join(names, ", ")
}
