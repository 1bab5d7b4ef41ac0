package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"tokend"
	"tokend/perm"
)

// introspectionJSON is RFC 7662's answer. It is not wrapped in dbt's envelope: gateways and
// OAuth filters that speak RFC 7662 read "active" at the top level.
type introspectionJSON struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	AccountID int64  `json:"account_id,omitempty"`
	UserID    int64  `json:"user_id,omitempty"`
}

// introspect is tokend's RFC 7662 endpoint: POST, form-encoded token=…, by a caller that may
// read API tokens in the token's account.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	// A body that is not a form leaves the token empty; the service refuses an unauthorized
	// caller before it looks at the input.
	_ = r.ParseForm()
	in, err := s.svc.Introspect(r.Context(), p, r.PostForm.Get("token"), requestIP(r))
	if err != nil {
		return err
	}
	out := introspectionJSON{Active: in.Active}
	if in.Active {
		out.TokenType, out.ClientID, out.AccountID, out.UserID = string(in.Kind), in.UID, int64(in.AccountID), int64(in.UserID)
		out.Sub = "service:" + in.UID
		if in.UserID != 0 {
			out.Sub = "user:" + strconv.FormatInt(int64(in.UserID), 10)
		}
		if !in.ExpiresAt.IsZero() {
			out.Exp = in.ExpiresAt.Unix()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
	return nil
}

// forwardAuth answers a gateway's subrequest (nginx auth_request, Envoy ext_authz over HTTP,
// Traefik forwardAuth, Caddy forward_auth): 200 with the caller's identity in X-Tokend-*
// headers when the forwarded Authorization header holds a valid token, the usual 401 or 403
// otherwise. Optional query parameters narrow it: account_id (the token must belong to it),
// need=resource:access (e.g. projects:write) and project_id.
func (s *Server) forwardAuth(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	q := r.URL.Query()
	if v := q.Get("account_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return tokend.Invalidf("account_id", "\"account_id\" must be a positive integer.")
		}
		if err := p.InAccount(tokend.AccountID(id)); err != nil {
			return err
		}
	}
	if v := q.Get("need"); v != "" {
		res, acc, ok := parseNeed(v)
		if !ok {
			return tokend.Invalidf("need", "\"need\" must be resource:read or resource:write, e.g. projects:write; got %q.", v)
		}
		var project int64
		if pv := q.Get("project_id"); pv != "" {
			var err error
			if project, err = strconv.ParseInt(pv, 10, 64); err != nil || project <= 0 {
				return tokend.Invalidf("project_id", "\"project_id\" must be a positive integer.")
			}
		}
		if !p.Can(res, acc, tokend.ProjectID(project)) {
			e := tokend.MissingCapability(p, res, acc, tokend.ProjectID(project))
			e.Message = "This token lacks " + v + "."
			return e
		}
	}
	h := w.Header()
	h.Set("X-Tokend-Token-Kind", string(p.Kind))
	h.Set("X-Tokend-Token-Uid", p.TokenUID)
	h.Set("X-Tokend-Account-Id", strconv.FormatInt(int64(p.AccountID), 10))
	if p.UserID != 0 {
		h.Set("X-Tokend-User-Id", strconv.FormatInt(int64(p.UserID), 10))
	}
	accountID := int64(p.AccountID)
	writeOK(w, map[string]any{"token": tokenInfoJSON{Kind: string(p.Kind), UID: p.TokenUID,
		AccountID: &accountID, ExpiresAt: jsonTime(p.ExpiresAt)}})
	return nil
}

// parseNeed reads "resource:access", e.g. "service_tokens:read".
func parseNeed(v string) (perm.Resource, perm.Access, bool) { return perm.ParseName(v) }
