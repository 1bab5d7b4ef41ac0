package httpapi

import (
	"net/http"

	"tokend"
	"tokend/perm"
)

// route is one line of the API's route table: the pattern ("METHOD /path/", registered with and
// without its trailing slash), what a caller needs, and the handler. The need is declared here
// and nowhere else: the legacy-key report's suggestions read it, and the authorization matrix
// test checks every route against it.
type route struct {
	pattern string
	need    tokend.RouteNeed
	serve   func(s *Server) http.Handler
}

// Needs every route reads from.
var (
	public   = tokend.RouteNeed{Public: true}
	anyToken = tokend.RouteNeed{Any: true}
	asUser   = tokend.RouteNeed{UserContext: true}
	scimOnly = tokend.RouteNeed{SCIM: true}
)

// needs declares capabilities, in (resource, access) pairs.
func needs(r perm.Resource, a perm.Access, more ...tokend.Capability) tokend.RouteNeed {
	return tokend.RouteNeed{Caps: append([]tokend.Capability{{Resource: r, Access: a}}, more...)}
}

// inProject checks n's capabilities in the project named by field (a path parameter or a body
// field).
func inProject(n tokend.RouteNeed, field string) tokend.RouteNeed { n.Project = field; return n }

// anyProject lets n's capabilities held in any one project do (a list shows those).
func anyProject(n tokend.RouteNeed) tokend.RouteNeed { n.AnyProject = true; return n }

// tokenHolder adds that a person needs a license that may manage service tokens.
func tokenHolder(n tokend.RouteNeed) tokend.RouteNeed { n.TokenLicense = true; return n }

// authed serves a route that needs a verified token; open serves one that authenticates by
// itself (or needs no token).
func authed(h func(*Server, http.ResponseWriter, *http.Request, *tokend.Principal) error) func(*Server) http.Handler {
	return func(s *Server) http.Handler {
		return s.authed(func(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error { return h(s, w, r, p) })
	}
}

// scim serves a SCIM endpoint, the only kind of route a SCIM token reaches.
func scim(h func(*Server, http.ResponseWriter, *http.Request, *tokend.Principal) error) func(*Server) http.Handler {
	return func(s *Server) http.Handler {
		return s.authedSCIM(func(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error { return h(s, w, r, p) })
	}
}

func open(h func(*Server, http.ResponseWriter, *http.Request)) func(*Server) http.Handler {
	return func(s *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
	}
}

// routeTable is every route of the API. (A function rather than a variable: a handler reads
// the table's needs, which a variable could not refer to during its own initialisation.)
func routeTable() []route {
	const (
		read  = perm.Read
		write = perm.Write
	)
	sts := perm.ServiceTokens
	return []route{
		// Accounts (dbt v2 and v3).
		{"GET /api/v2/accounts/", anyToken, authed((*Server).listAccounts)},
		{"GET /api/v3/accounts/", anyToken, authed((*Server).listAccounts)},
		{"GET /api/v2/accounts/{account_id}/", anyToken, authed((*Server).getAccount)},
		{"POST /api/v2/accounts/{account_id}/", needs(perm.AccountSettings, write), authed((*Server).updateAccount)},
		{"GET /api/v3/accounts/{account_id}/", anyToken, authed((*Server).getAccount)},

		// Who is asking.
		{"GET /api/v2/whoami/", anyToken, authed((*Server).whoami)},
		{"GET /api/v3/whoami/", anyToken, authed((*Server).whoami)},

		// Users and licenses.
		{"GET /api/v3/accounts/{account_id}/users/", needs(perm.Users, read), authed((*Server).listUsers)},
		{"POST /api/v3/accounts/{account_id}/users/", needs(perm.Users, write, tokend.Capability{Resource: perm.Licenses, Access: write}), authed((*Server).addUser)},
		{"GET /api/v3/accounts/{account_id}/users/{id}/", needs(perm.Users, read), authed((*Server).getAccountUser)},
		{"GET /api/v2/accounts/{account_id}/users/", needs(perm.Users, read), authed((*Server).listUsers)},
		{"GET /api/v2/accounts/{account_id}/users/{id}/", needs(perm.Users, read), authed((*Server).getUserV2)},
		{"POST /api/v2/accounts/{account_id}/permissions/{id}/", needs(perm.Licenses, write), authed((*Server).updateLicense)},
		{"GET /api/v2/accounts/{account_id}/licenses/", needs(perm.Licenses, read), authed((*Server).listLicenses)},

		// SCIM tokens: managed by whoever holds what they grant (users, groups, licenses); good
		// only on the SCIM endpoints below.
		{"GET /api/v3/accounts/{account_id}/scim-config/tokens/", needs(perm.Users, read, scimCaps(read)...), authed((*Server).listSCIMTokens)},
		{"POST /api/v3/accounts/{account_id}/scim-config/tokens/", needs(perm.Users, write, scimCaps(write)...), authed((*Server).createSCIMToken)},
		{"GET /api/v3/accounts/{account_id}/scim-config/tokens/{id}/", needs(perm.Users, read, scimCaps(read)...), authed((*Server).getSCIMToken)},
		{"DELETE /api/v3/accounts/{account_id}/scim-config/tokens/{id}/", needs(perm.Users, write, scimCaps(write)...), authed((*Server).deleteSCIMToken)},
		{"GET /api/v3/accounts/{account_id}/scim/v2/Users", scimOnly, scim((*Server).scimUsers)},
		{"GET /api/v3/accounts/{account_id}/scim/v2/Users/{user_id}", scimOnly, scim((*Server).scimUser)},

		// License maps: SSO groups → license.
		{"GET /api/v3/accounts/{account_id}/license-maps/", needs(perm.Licenses, read), authed((*Server).listLicenseMaps)},
		{"POST /api/v3/accounts/{account_id}/license-maps/", needs(perm.Licenses, write), authed((*Server).createLicenseMap)},
		{"GET /api/v3/accounts/{account_id}/license-maps/{id}/", needs(perm.Licenses, read), authed((*Server).getLicenseMap)},
		{"POST /api/v3/accounts/{account_id}/license-maps/{id}/", needs(perm.Licenses, write), authed((*Server).updateLicenseMap)},
		{"DELETE /api/v3/accounts/{account_id}/license-maps/{id}/", needs(perm.Licenses, write), authed((*Server).deleteLicenseMap)},

		// Invitations: an admin invites by e-mail; the invited person sees and accepts their own
		// (with a PAT of theirs, from any account).
		{"POST /api/v3/accounts/{account_id}/invites/", needs(perm.Users, write, tokend.Capability{Resource: perm.Licenses, Access: write}), authed((*Server).sendInvites)},
		{"GET /api/v2/accounts/{account_id}/invites/", needs(perm.Users, read), authed((*Server).listInvites)},
		{"GET /api/v2/accounts/{account_id}/invites/{id}/", needs(perm.Users, read), authed((*Server).getInvite)},
		{"GET /api/tokend/v1/users/{user_id}/invites/", asUser, authed((*Server).myInvites)},
		{"POST /api/tokend/v1/users/{user_id}/invites/{id}/accept/", asUser, authed((*Server).acceptInvite)},

		// Groups and their permissions.
		{"GET /api/v3/accounts/{account_id}/groups/", needs(perm.Groups, read), authed((*Server).listGroups)},
		{"POST /api/v3/accounts/{account_id}/groups/", needs(perm.Groups, write), authed((*Server).createGroup)},
		{"GET /api/v3/accounts/{account_id}/groups/{id}/", needs(perm.Groups, read), authed((*Server).getGroup)},
		{"POST /api/v3/accounts/{account_id}/groups/{id}/", needs(perm.Groups, write), authed((*Server).updateGroup)},
		{"POST /api/v3/accounts/{account_id}/group-permissions/{group_id}/", needs(perm.Groups, write), authed((*Server).setGroupPermissions)},
		{"POST /api/v3/accounts/{account_id}/assign-groups/", needs(perm.Groups, write), authed((*Server).assignGroups)},

		// Projects: a list shows the projects the caller may read; one project needs the
		// capability in that project.
		{"GET /api/v3/accounts/{account_id}/projects/", anyProject(needs(perm.Projects, read)), authed((*Server).listProjects)},
		{"POST /api/v3/accounts/{account_id}/projects/", needs(perm.Projects, write), authed((*Server).createProject)},
		{"GET /api/v3/accounts/{account_id}/projects/{id}/", inProject(needs(perm.Projects, read), "id"), authed((*Server).getProject)},
		{"POST /api/v3/accounts/{account_id}/projects/{id}/", inProject(needs(perm.Projects, write), "id"), authed((*Server).updateProject)},
		{"DELETE /api/v3/accounts/{account_id}/projects/{id}/", inProject(needs(perm.Projects, write), "id"), authed((*Server).deleteProject)},
		{"GET /api/v2/accounts/{account_id}/projects/", anyProject(needs(perm.Projects, read)), authed((*Server).listProjects)},
		{"GET /api/v2/accounts/{account_id}/projects/{id}/", inProject(needs(perm.Projects, read), "id"), authed((*Server).getProject)},

		// IP restrictions.
		{"GET /api/v3/accounts/{account_id}/ip-restrictions/", needs(perm.IPRestrictions, read), authed((*Server).listIPRules)},
		{"POST /api/v3/accounts/{account_id}/ip-restrictions/", needs(perm.IPRestrictions, write), authed((*Server).saveIPRule)},
		{"GET /api/v3/accounts/{account_id}/ip-restrictions/{id}/", needs(perm.IPRestrictions, read), authed((*Server).getIPRule)},
		{"PUT /api/v3/accounts/{account_id}/ip-restrictions/{id}/", needs(perm.IPRestrictions, write), authed((*Server).saveIPRule)},
		{"DELETE /api/v3/accounts/{account_id}/ip-restrictions/{id}/", needs(perm.IPRestrictions, write), authed((*Server).deleteIPRule)},
		{"POST /api/v3/accounts/{account_id}/ip-restrictions-set/", needs(perm.IPRestrictions, write), authed((*Server).setIPRestrictions)},

		// Audit log.
		{"GET /api/v3/accounts/{account_id}/audit-logs/", needs(perm.AuditLog, read), authed((*Server).auditLogs)},
		{"GET /api/tokend/v1/accounts/{account_id}/audit-logs/export/", needs(perm.AuditLog, read), authed((*Server).exportAuditLogs)},

		// Personal access tokens: user context only (a PAT of that same user). Creation also
		// takes HTTP Basic with the user's e-mail and password, for the first token.
		{"GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/", asUser, authed((*Server).listPATs)},
		{"POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/", asUser, open((*Server).createPAT)},
		{"GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", asUser, authed((*Server).getPAT)},
		{"POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", asUser, authed((*Server).rotatePAT)},
		{"DELETE /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", asUser, authed((*Server).deletePAT)},

		// User credentials: user context only (a PAT of that same user, in the PAT's account).
		{"GET /api/v3/users/{user_id}/credentials/", asUser, authed((*Server).listUserCredentials)},
		{"POST /api/v3/users/{user_id}/credentials/", inProject(tokend.RouteNeed{UserContext: true,
			Caps: needs(perm.Credentials, write).Caps}, "project_id"), authed((*Server).createUserCredential)},
		{"GET /api/v3/users/{user_id}/credentials/{id}/", asUser, authed((*Server).getUserCredential)},
		{"POST /api/v3/users/{user_id}/credentials/{id}/", asUser, authed((*Server).updateUserCredential)},
		{"DELETE /api/v3/users/{user_id}/credentials/{id}/", asUser, authed((*Server).deleteUserCredential)},

		// Service tokens: writing one needs account-admin rights and, for a person, a license
		// that may hold tokens.
		{"GET /api/v3/accounts/{account_id}/service-tokens/", needs(sts, read), authed((*Server).listServiceTokens)},
		{"POST /api/v3/accounts/{account_id}/service-tokens/", tokenHolder(needs(sts, write)), authed((*Server).createServiceToken)},
		{"GET /api/v3/accounts/{account_id}/service-tokens/{id}/", needs(sts, read), authed((*Server).getServiceToken)},
		{"PUT /api/v3/accounts/{account_id}/service-tokens/{id}/", tokenHolder(needs(sts, write)), authed((*Server).updateServiceToken)},
		{"POST /api/v3/accounts/{account_id}/service-tokens/{id}/", tokenHolder(needs(sts, write)), authed((*Server).updateServiceToken)},
		{"DELETE /api/v3/accounts/{account_id}/service-tokens/{id}/", tokenHolder(needs(sts, write)), authed((*Server).deleteServiceToken)},
		{"GET /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/", needs(sts, read), authed((*Server).getServiceTokenPermissions)},
		{"POST /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/", tokenHolder(needs(sts, write)), authed((*Server).setServiceTokenPermissions)},

		// Legacy user API keys: retired; a user manages their own (with a PAT of theirs), an
		// admin reads where they are still used.
		{"GET /api/v2/users/{user_id}/apikey/", asUser, authed((*Server).getLegacyKey)},
		{"POST /api/v2/users/{user_id}/apikey/", asUser, authed((*Server).rotateLegacyKey)},
		{"GET /api/v3/accounts/{account_id}/legacy-key-usage/", needs(perm.AuditLog, read), authed((*Server).legacyUsage)},

		// tokend additions.
		{"GET /api/tokend/v1/accounts/{account_id}/tokens/", needs(sts, read), authed((*Server).tokenInventory)},
		{"POST /api/tokend/v1/accounts/{account_id}/tokens/revoke/", needs(sts, write), authed((*Server).revokeTokens)},
		{"GET /api/tokend/v1/accounts/{account_id}/tokens/{id}/activity/", needs(sts, read), authed((*Server).tokenActivity)},
		{"POST /api/tokend/v1/accounts/{account_id}/service-tokens/{id}/rotate/", tokenHolder(needs(sts, write)), authed((*Server).rotateServiceToken)},
		// Least-privilege advice: what a token used and the narrowest grants that allow it (a
		// user's own PAT needs no more than the PAT).
		{"GET /api/tokend/v1/accounts/{account_id}/tokens/{id}/advice/", needs(sts, read), authed((*Server).tokenAdvice)},
		{"POST /api/tokend/v1/accounts/{account_id}/tokens/{id}/enable/", needs(sts, write), authed((*Server).enableToken)},
		{"POST /api/tokend/v1/revoke/", public, open((*Server).revokeLeaked)},
		{"POST /api/tokend/v1/introspect/", needs(sts, read), authed((*Server).introspect)},
		{"GET /api/tokend/v1/forward-auth/", anyToken, authed((*Server).forwardAuth)},

		// Keyless CI: trust policies are service-token factories, written under the same rule
		// as service tokens; the OAuth endpoints (token exchange, device login) authenticate
		// by what the form carries.
		{"GET /api/tokend/v1/accounts/{account_id}/trust-policies/", needs(sts, read), authed((*Server).listTrustPolicies)},
		{"POST /api/tokend/v1/accounts/{account_id}/trust-policies/", tokenHolder(needs(sts, write)), authed((*Server).createTrustPolicy)},
		{"GET /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/", needs(sts, read), authed((*Server).getTrustPolicy)},
		{"PUT /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/", tokenHolder(needs(sts, write)), authed((*Server).updateTrustPolicy)},
		{"POST /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/", tokenHolder(needs(sts, write)), authed((*Server).updateTrustPolicy)},
		{"DELETE /api/tokend/v1/accounts/{account_id}/trust-policies/{id}/", tokenHolder(needs(sts, write)), authed((*Server).deleteTrustPolicy)},
		// Webhooks: endpoints that hear of the account's token events. Their events show what
		// the token inventory shows, so each route also needs read access to service tokens.
		{"GET /api/tokend/v1/accounts/{account_id}/webhooks/", hooks(read), authed((*Server).listWebhooks)},
		{"POST /api/tokend/v1/accounts/{account_id}/webhooks/", hooks(write), authed((*Server).createWebhook)},
		{"GET /api/tokend/v1/accounts/{account_id}/webhooks/{id}/", hooks(read), authed((*Server).getWebhook)},
		{"PUT /api/tokend/v1/accounts/{account_id}/webhooks/{id}/", hooks(write), authed((*Server).updateWebhook)},
		{"POST /api/tokend/v1/accounts/{account_id}/webhooks/{id}/", hooks(write), authed((*Server).updateWebhook)},
		{"DELETE /api/tokend/v1/accounts/{account_id}/webhooks/{id}/", hooks(write), authed((*Server).deleteWebhook)},
		{"POST /api/tokend/v1/accounts/{account_id}/webhooks/{id}/rotate-secret/", hooks(write), authed((*Server).rotateWebhookSecret)},
		{"GET /api/tokend/v1/accounts/{account_id}/webhooks/{id}/deliveries/", hooks(read), authed((*Server).listWebhookDeliveries)},
		{"GET /api/tokend/v1/accounts/{account_id}/webhooks/{id}/deliveries/{delivery_id}/", hooks(read), authed((*Server).getWebhookDelivery)},
		{"POST /api/tokend/v1/accounts/{account_id}/webhooks/{id}/deliveries/{delivery_id}/redeliver/", hooks(write), authed((*Server).redeliverWebhook)},
		{"POST /api/tokend/v1/oauth/token/", public, open((*Server).token)},
		{"POST /api/tokend/v1/oauth/device/code/", public, open((*Server).deviceCode)},
		// Account recovery: change your own password (a PAT of that user), an admin's one-time
		// reset link for a member, and the link's redemption (the code is the authorization).
		{"POST /api/tokend/v1/users/{user_id}/password/", asUser, authed((*Server).changePassword)},
		{"POST /api/tokend/v1/accounts/{account_id}/users/{user_id}/password-reset/", needs(perm.Users, write), authed((*Server).createPasswordReset)},
		{"POST /api/tokend/v1/password-reset/", public, open((*Server).resetPassword)},
	}
}

// routes registers the route table, the probes, and a 404 in the envelope for anything else
// under /api.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	for _, rt := range routeTable() {
		s.handle(rt.pattern, rt.serve(s))
	}
	s.mux.HandleFunc("/api/", s.notFound)
}

// Route is a route of the API and what it needs.
type Route struct {
	Pattern string // "METHOD /path/"
	Need    tokend.RouteNeed
}

// Routes lists the API's routes with what each needs, in table order.
func Routes() []Route {
	t := routeTable()
	out := make([]Route, len(t))
	for i, rt := range t {
		out[i] = Route{Pattern: rt.pattern, Need: rt.need}
	}
	return out
}

// RouteNeeds returns what each route requires, keyed by "METHOD /path/", for the legacy-key
// report.
func RouteNeeds() map[string]tokend.RouteNeed {
	out := make(map[string]tokend.RouteNeed)
	for _, rt := range routeTable() {
		out[rt.pattern] = rt.need
	}
	return out
}

// hooks is what the webhook routes need: a on webhooks, and read access to service tokens
// (what the events tell about).
func hooks(a perm.Access) tokend.RouteNeed {
	return needs(perm.Webhooks, a, tokend.Capability{Resource: perm.ServiceTokens, Access: perm.Read})
}

// scimCaps are the capabilities besides users that managing SCIM tokens takes: what a SCIM
// token provisions.
func scimCaps(a perm.Access) []tokend.Capability {
	return []tokend.Capability{{Resource: perm.Groups, Access: a}, {Resource: perm.Licenses, Access: a}}
}
