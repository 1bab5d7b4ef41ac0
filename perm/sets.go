package perm

// Set is a permission set, named exactly as in dbt's OpenAPI PermissionSetEnum.
type Set string

// The permission sets, in the order of dbt's PermissionSetEnum.
const (
	AccountAdmin          Set = "account_admin"
	AccountViewer         Set = "account_viewer"
	Admin                 Set = "admin"
	Analyst               Set = "analyst"
	AnalystRead           Set = "analyst_read"
	BillingAdmin          Set = "billing_admin"
	CostInsightsAdmin     Set = "cost_insights_admin"
	CostInsightsViewer    Set = "cost_insights_viewer"
	CostManagementAdmin   Set = "cost_management_admin"
	CostManagementViewer  Set = "cost_management_viewer"
	DatabaseAdmin         Set = "database_admin"
	Developer             Set = "developer"
	FusionAdmin           Set = "fusion_admin"
	GitAdmin              Set = "git_admin"
	JobAdmin              Set = "job_admin"
	JobCreator            Set = "job_creator"
	JobRunner             Set = "job_runner"
	JobViewer             Set = "job_viewer"
	ManageMarketplaceApps Set = "manage_marketplace_apps"
	Member                Set = "member"
	MetadataOnly          Set = "metadata_only"
	NotificationManager   Set = "notification_manager"
	Owner                 Set = "owner"
	ProjectCreator        Set = "project_creator"
	Readonly              Set = "readonly"
	ScimOnly              Set = "scim_only"
	SecurityAdmin         Set = "security_admin"
	SemanticLayerOnly     Set = "semantic_layer_only"
	Stakeholder           Set = "stakeholder"
	TeamAdmin             Set = "team_admin"
	WebhooksOnly          Set = "webhooks_only"
)

// allCaps is read and write on every resource.
const allCaps = readBits | writeBits

// setRow is one permission set: its name, its human label, what it grants,
// and whether writable_environment_categories means anything for it.
type setRow struct {
	set      Set
	label    string
	caps     Caps
	envWrite bool
}

// setTable is the permission table, in PermissionSetEnum order.
//
// Sources, abbreviated in the comments:
//
//	EP   dbt "Enterprise permissions" (docs.getdbt.com/docs/platform/manage-access/
//	     enterprise-permissions): the four tables "account/project access for
//	     account/project permissions" and the per-set descriptions.
//	SS   dbt "Starter permissions" (self-service-permissions): the Owner/Member table.
//	ENV  dbt "Environment-level permissions": the sets that take environment write access.
//
// How dbt's rows map onto tokend's resources: account_settings ← "Account
// settings"; billing ← "Billing"; users ← "Members" (every set that writes
// Members also writes Invitations); licenses ← "Licenses"; groups ← "Groups";
// projects ← "Projects", but W only with "Project (create)" W too (see notes);
// service_tokens, ip_restrictions, audit_log, connections, webhooks ← the rows
// of the same name; environments ← "Environments"; jobs ← "Jobs" (read also
// from "Runs"); metadata ← "Metadata GraphQL API access"; semantic_layer ←
// "Semantic Layer config"; credentials ← "Develop (IDE or CLI)". Rows with no
// tokend resource (auth provider, public models, repositories, cost insights,
// job notifications, marketplace app, fusion upgrade, ...) are dropped.
// Decisions where the sources are silent are listed in internal/permdoc.
var setTable = [...]setRow{
	// EP "Account Admin": W everywhere (spec: full read and write on the whole
	// account); its R on audit logs and metadata is W here, both are read-only.
	{AccountAdmin, "Account Admin", allCaps, false},
	// EP "Account Viewer": R on every account row except connections and
	// webhooks (–); R on every project row except Develop.
	{AccountViewer, "Account Viewer",
		read(AccountSettings, Billing, Users, Licenses, Groups, ServiceTokens, IPRestrictions, AuditLog,
			Projects, Environments, Jobs, Metadata, SemanticLayer), false},
	// EP "Admin": W on members, invitations, licenses, webhooks and every
	// project row; R on account settings, connections, groups. Projects W
	// without "Project (create)" → R.
	{Admin, "Admin",
		read(AccountSettings, Groups, Connections, Projects, Metadata) |
			write(Users, Licenses, Webhooks, Environments, Jobs, SemanticLayer, Credentials), false},
	// EP "Analyst": R on licenses, connections and project config; Develop W.
	// Members –. Jobs R* (writable only through environment write access).
	{Analyst, "Analyst",
		read(Licenses, Connections, Projects, Environments, Jobs, Metadata, SemanticLayer) |
			write(Credentials), true},
	// EP "Analyst read": R on account settings, members, groups, licenses,
	// connections and project config; jobs and runs –; Develop – but the set
	// carries user_credential_write (EP footnote), hence credentials W.
	{AnalystRead, "Analyst Read",
		read(AccountSettings, Users, Licenses, Groups, Connections, Projects, Environments, Metadata, SemanticLayer) |
			write(Credentials), false},
	// EP "Billing admin": Billing W, public models R, nothing else.
	{BillingAdmin, "Billing Admin", write(Billing), false},
	// EP "Cost Insights Admin": connections, projects, jobs, metadata R. Its
	// cost-insight settings have no tokend resource.
	{CostInsightsAdmin, "Cost Insights Admin", read(Connections, Projects, Jobs, Metadata), false},
	// EP "Cost Insights Viewer": same rows as the admin, all R.
	{CostInsightsViewer, "Cost Insights Viewer", read(Connections, Projects, Jobs, Metadata), false},
	// Not in EP's tables: nothing until dbt documents it.
	{CostManagementAdmin, "Cost Management Admin", 0, false},
	// Not in EP's tables: nothing until dbt documents it.
	{CostManagementViewer, "Cost Management Viewer", 0, false},
	// EP "Database admin": Semantic Layer config W; R on account settings,
	// members, groups, licenses, connections and the rest of the project rows.
	// Projects W without "Project (create)" → R. Jobs R*.
	{DatabaseAdmin, "Database Admin",
		read(AccountSettings, Users, Licenses, Groups, Connections, Projects, Environments, Jobs, Metadata) |
			write(SemanticLayer), true},
	// EP "Developer": Webhooks and Develop W; R on members, groups, licenses,
	// connections and project config. Jobs R*.
	{Developer, "Developer",
		read(Users, Licenses, Groups, Connections, Projects, Environments, Jobs, Metadata, SemanticLayer) |
			write(Webhooks, Credentials), true},
	// EP "Fusion admin": only "Fusion upgrade" W, which has no tokend resource.
	{FusionAdmin, "Fusion Admin", 0, false},
	// EP "Git Admin": R on account settings, members, groups, licenses,
	// connections and project config. Projects W without "Project (create)"
	// → R; repositories have no tokend resource. Jobs R*.
	{GitAdmin, "Git Admin",
		read(AccountSettings, Users, Licenses, Groups, Connections, Projects, Environments, Jobs, Metadata, SemanticLayer), true},
	// EP "Job admin": environments, jobs, runs W; R on licenses, connections,
	// projects, metadata, Semantic Layer config. Members –.
	{JobAdmin, "Job Admin",
		read(Licenses, Connections, Projects, Metadata, SemanticLayer) | write(Environments, Jobs), false},
	// EP "Job creator": jobs and runs W; R on connections and project config.
	{JobCreator, "Job Creator",
		read(Connections, Projects, Environments, Metadata, SemanticLayer) | write(Jobs), false},
	// EP "Job runner": jobs R, runs W. tokend's jobs resource also covers
	// editing jobs, so the runs W is not granted (see notes). The invitations
	// and licenses R in the newest table contradict the set's own description
	// ("no other access") and older tables, and are left out.
	{JobRunner, "Job Runner", read(Jobs), false},
	// EP "Job viewer": R on projects, environments, jobs, runs, metadata.
	{JobViewer, "Job Viewer", read(Projects, Environments, Jobs, Metadata), false},
	// EP "Manage marketplace apps": only "Marketplace app" W; no tokend resource.
	{ManageMarketplaceApps, "Manage Marketplace Apps", 0, false},
	// SS "Member" (the Starter/Team member set): W on account settings,
	// project creation, connections, webhooks and every project row; R on
	// users, licenses and permissions (groups); billing and service tokens –.
	// Catalog W → metadata R: the Discovery API is read-only.
	{Member, "Member",
		read(Users, Licenses, Groups, Metadata) |
			write(AccountSettings, Projects, Connections, Environments, Jobs, Webhooks, SemanticLayer, Credentials), false},
	// EP "Metadata (Discovery API only)": metadata R, nothing else.
	{MetadataOnly, "Metadata Only", read(Metadata), false},
	// EP "Notification Manager": members and connections R; its job
	// notifications W has no tokend resource.
	{NotificationManager, "Notification Manager", read(Users, Connections), false},
	// SS "Owner": W everywhere; the Starter/Team name for account admin.
	{Owner, "Owner", allCaps, false},
	// EP "Project creator": W on connections, invitations, licenses, members,
	// project creation and every project row; R on account settings, groups.
	{ProjectCreator, "Project Creator",
		read(AccountSettings, Groups, Metadata) |
			write(Users, Licenses, Connections, Projects, Environments, Jobs, SemanticLayer, Credentials), false},
	// EP "Stakeholder/Read-Only" (identical sets): R on members, groups,
	// licenses, connections and project config. The newest table's account
	// settings R contradicts the set's description ("without access to
	// account settings") and is left out.
	{Readonly, "Read-Only",
		read(Users, Licenses, Groups, Connections, Projects, Environments, Jobs, Metadata, SemanticLayer), false},
	// Not in EP's tables. A SCIM token provisions users, groups and licenses.
	{ScimOnly, "SCIM Only", write(Users, Groups, Licenses), false},
	// EP "Security admin": W on groups, invitations, IP restrictions,
	// licenses, members and permissions; R on account settings, audit logs,
	// service tokens, projects. Auth provider W has no tokend resource.
	{SecurityAdmin, "Security Admin",
		read(AccountSettings, AuditLog, ServiceTokens, Projects) |
			write(Users, Licenses, Groups, IPRestrictions), false},
	// EP "Semantic Layer": Semantic Layer config W. The account-level R cells
	// of the newest table contradict "no other access" and are left out.
	{SemanticLayerOnly, "Semantic Layer Only", write(SemanticLayer), false},
	// EP "Stakeholder/Read-Only": identical to readonly.
	{Stakeholder, "Stakeholder",
		read(Users, Licenses, Groups, Connections, Projects, Environments, Jobs, Metadata, SemanticLayer), false},
	// EP "Team admin": R on account settings, members, groups, licenses,
	// connections and project config. Projects W without "Project (create)"
	// → R. Jobs R*.
	{TeamAdmin, "Team Admin",
		read(AccountSettings, Users, Licenses, Groups, Connections, Projects, Environments, Jobs, Metadata, SemanticLayer), true},
	// EP (2024 tables) "Webhook" column: webhooks W, public models R.
	{WebhooksOnly, "Webhooks Only", write(Webhooks), false},
}

// Sets returns every permission set in PermissionSetEnum order.
func Sets() []Set {
	out := make([]Set, len(setTable))
	for i, row := range setTable {
		out[i] = row.set
	}
	return out
}

func (s Set) row() (setRow, bool) {
	for _, row := range setTable {
		if row.set == s {
			return row, true
		}
	}
	return setRow{}, false
}

// Valid reports whether s is one of dbt's permission sets.
func (s Set) Valid() bool {
	_, ok := s.row()
	return ok
}

// Caps returns what s grants; an unknown set grants nothing.
func (s Set) Caps() Caps {
	row, _ := s.row()
	return row.caps
}

// Label returns the human name, e.g. "Account Admin". An unknown set is
// returned as is.
func (s Set) Label() string {
	row, ok := s.row()
	if !ok {
		return string(s)
	}
	return row.label
}

// SupportsEnvironmentCategories reports whether writable_environment_categories
// means anything for s: dbt lets only analyst, database_admin, developer,
// git_admin and team_admin take environment write access.
func (s Set) SupportsEnvironmentCategories() bool {
	row, _ := s.row()
	return row.envWrite
}

// GrantedBy returns, in table order, the permission sets that grant a on r (a write
// capability also grants read).
func GrantedBy(r Resource, a Access) []Set {
	var out []Set
	for _, row := range setTable {
		if row.caps.Has(r, a) {
			out = append(out, row.set)
		}
	}
	return out
}
