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

	// Groups and their permissions.

	// Projects.

	// Audit log.
	s.handle("GET /api/v3/accounts/{account_id}/audit-logs/", s.authed(s.auditLogs))

	// tokend additions.
	s.handle("POST /api/tokend/v1/revoke/", http.HandlerFunc(s.revokeLeaked))

	// Anything else under /api answers 404 in the envelope.
	s.mux.HandleFunc("/api/", s.notFound)
}
