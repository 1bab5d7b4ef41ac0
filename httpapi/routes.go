package httpapi

import "net/http"

// routes lists every route of the API. Each is registered with and without its trailing slash.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)

	// Accounts (dbt v2 and v3).
	s.handle("GET /api/v2/accounts/", s.authed(s.listAccounts))
	s.handle("GET /api/v3/accounts/", s.authed(s.listAccounts))
	s.handle("GET /api/v2/accounts/{account_id}/", s.authed(s.getAccount))
	s.handle("POST /api/v2/accounts/{account_id}/", s.authed(s.updateAccount))
	s.handle("GET /api/v3/accounts/{account_id}/", s.authed(s.getAccount))

	// Who is asking.
	s.handle("GET /api/v2/whoami/", s.authed(s.whoami))
	s.handle("GET /api/v3/whoami/", s.authed(s.whoami))

	// Users and licenses.
	s.handle("GET /api/v3/accounts/{account_id}/users/", s.authed(s.listUsers))
	s.handle("POST /api/v3/accounts/{account_id}/users/", s.authed(s.addUser))
	s.handle("GET /api/v3/accounts/{account_id}/users/{id}/", s.authed(s.getAccountUser))
	s.handle("GET /api/v2/accounts/{account_id}/users/", s.authed(s.listUsers))
	s.handle("GET /api/v2/accounts/{account_id}/users/{id}/", s.authed(s.getUserV2))
	s.handle("POST /api/v2/accounts/{account_id}/permissions/{id}/", s.authed(s.updateLicense))

	// Groups and their permissions.
	s.handle("GET /api/v3/accounts/{account_id}/groups/", s.authed(s.listGroups))
	s.handle("POST /api/v3/accounts/{account_id}/groups/", s.authed(s.createGroup))
	s.handle("GET /api/v3/accounts/{account_id}/groups/{id}/", s.authed(s.getGroup))
	s.handle("POST /api/v3/accounts/{account_id}/groups/{id}/", s.authed(s.updateGroup))
	s.handle("POST /api/v3/accounts/{account_id}/group-permissions/{group_id}/", s.authed(s.setGroupPermissions))
	s.handle("POST /api/v3/accounts/{account_id}/assign-groups/", s.authed(s.assignGroups))

	// Projects.
	s.handle("GET /api/v3/accounts/{account_id}/projects/", s.authed(s.listProjects))
	s.handle("POST /api/v3/accounts/{account_id}/projects/", s.authed(s.createProject))
	s.handle("GET /api/v3/accounts/{account_id}/projects/{id}/", s.authed(s.getProject))
	s.handle("POST /api/v3/accounts/{account_id}/projects/{id}/", s.authed(s.updateProject))
	s.handle("DELETE /api/v3/accounts/{account_id}/projects/{id}/", s.authed(s.deleteProject))

	// IP restrictions.
	s.handle("GET /api/v3/accounts/{account_id}/ip-restrictions/", s.authed(s.listIPRules))
	s.handle("POST /api/v3/accounts/{account_id}/ip-restrictions/", s.authed(s.saveIPRule))
	s.handle("GET /api/v3/accounts/{account_id}/ip-restrictions/{id}/", s.authed(s.getIPRule))
	s.handle("PUT /api/v3/accounts/{account_id}/ip-restrictions/{id}/", s.authed(s.saveIPRule))
	s.handle("DELETE /api/v3/accounts/{account_id}/ip-restrictions/{id}/", s.authed(s.deleteIPRule))
	s.handle("POST /api/v3/accounts/{account_id}/ip-restrictions-set/", s.authed(s.setIPRestrictions))

	// Audit log.
	s.handle("GET /api/v3/accounts/{account_id}/audit-logs/", s.authed(s.auditLogs))

	// Personal access tokens: user context only (a PAT of that same user). Creation also takes
	// HTTP Basic with the user's e-mail and password, for the first token.
	s.handle("GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/", s.authed(s.listPATs))
	s.handle("POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/", http.HandlerFunc(s.createPAT))
	s.handle("GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", s.authed(s.getPAT))
	s.handle("POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", s.authed(s.rotatePAT))
	s.handle("DELETE /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/", s.authed(s.deletePAT))

	// User credentials: user context only (a PAT of that same user, in the PAT's account).
	s.handle("GET /api/v3/users/{user_id}/credentials/", s.authed(s.listUserCredentials))
	s.handle("POST /api/v3/users/{user_id}/credentials/", s.authed(s.createUserCredential))
	s.handle("GET /api/v3/users/{user_id}/credentials/{id}/", s.authed(s.getUserCredential))
	s.handle("POST /api/v3/users/{user_id}/credentials/{id}/", s.authed(s.updateUserCredential))
	s.handle("DELETE /api/v3/users/{user_id}/credentials/{id}/", s.authed(s.deleteUserCredential))

	// Service tokens.
	s.handle("GET /api/v3/accounts/{account_id}/service-tokens/", s.authed(s.listServiceTokens))
	s.handle("POST /api/v3/accounts/{account_id}/service-tokens/", s.authed(s.createServiceToken))
	s.handle("GET /api/v3/accounts/{account_id}/service-tokens/{id}/", s.authed(s.getServiceToken))
	s.handle("PUT /api/v3/accounts/{account_id}/service-tokens/{id}/", s.authed(s.updateServiceToken))
	s.handle("POST /api/v3/accounts/{account_id}/service-tokens/{id}/", s.authed(s.updateServiceToken))
	s.handle("DELETE /api/v3/accounts/{account_id}/service-tokens/{id}/", s.authed(s.deleteServiceToken))
	s.handle("GET /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/", s.authed(s.getServiceTokenPermissions))
	s.handle("POST /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/", s.authed(s.setServiceTokenPermissions))

	// Legacy user API keys: retired; a user manages their own (with a PAT of theirs), an admin
	// reads where they are still used.
	s.handle("GET /api/v2/users/{user_id}/apikey/", s.authed(s.getLegacyKey))
	s.handle("POST /api/v2/users/{user_id}/apikey/", s.authed(s.rotateLegacyKey))
	s.handle("GET /api/v3/accounts/{account_id}/legacy-key-usage/", s.authed(s.legacyUsage))

	// tokend additions.
	s.handle("GET /api/tokend/v1/accounts/{account_id}/tokens/", s.authed(s.tokenInventory))
	s.handle("POST /api/tokend/v1/accounts/{account_id}/tokens/revoke/", s.authed(s.revokeTokens))
	s.handle("GET /api/tokend/v1/accounts/{account_id}/tokens/{id}/activity/", s.authed(s.tokenActivity))
	s.handle("POST /api/tokend/v1/revoke/", http.HandlerFunc(s.revokeLeaked))
	s.handle("POST /api/tokend/v1/introspect/", s.authed(s.introspect))
	s.handle("GET /api/tokend/v1/forward-auth/", s.authed(s.forwardAuth))

	// Anything else under /api answers 404 in the envelope.
	s.mux.HandleFunc("/api/", s.notFound)
}
