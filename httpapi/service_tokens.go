package httpapi

import (
	"net/http"
	"time"

	"tokend"
)

// serviceTokenJSON is dbt's ServiceToken (and CreateServiceToken, with token_string set only
// in the answer to a create). legacy_format marks an imported old-format token, for which
// rotation is recommended.
type serviceTokenJSON struct {
	ID                int64   `json:"id"`
	AccountID         int64   `json:"account_id"`
	UID               string  `json:"uid"`
	Name              string  `json:"name"`
	State             int     `json:"state"`
	TokenString       *string `json:"token_string"`
	LastUsed          *string `json:"last_used"`
	LastUsedIP        *string `json:"last_used_ip"`
	LegacyFormat      bool    `json:"legacy_format"`
	RotateRecommended bool    `json:"rotate_recommended"`
	// Federated marks a token minted by a token exchange under trust policy trust_policy_id;
	// it expires at expires_at.
	Federated                bool                         `json:"federated"`
	TrustPolicyID            *int64                       `json:"trust_policy_id"`
	ExpiresAt                *string                      `json:"expires_at"`
	PermissionGrants         []permissionGrantJSON        `json:"permission_grants"`
	ServiceTokenPermissions  []serviceTokenPermissionJSON `json:"service_token_permissions"`
	SemanticLayerCredentials []any                        `json:"semantic_layer_credentials"`
	MetadataOnly             bool                         `json:"metadata_only"`
	WebhooksOnly             bool                         `json:"webhooks_only"`
	CreatedAt                *string                      `json:"created_at"`
	UpdatedAt                *string                      `json:"updated_at"`
	// DisabledAt is set while the token is disabled for inactivity (tokend's own field).
	DisabledAt *string `json:"disabled_at,omitempty"`
}

// permissionGrantJSON is dbt's ServiceTokenPermissionGrant: no project_id means all projects.
type permissionGrantJSON struct {
	PermissionSet                 string   `json:"permission_set"`
	ProjectID                     *int64   `json:"project_id"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
}

// serviceTokenPermissionJSON is dbt's ServiceTokenPermissionResponse. The grants are replaced
// as a whole, so their times are the token's last change.
type serviceTokenPermissionJSON struct {
	ID                            int64    `json:"id"`
	AccountID                     int64    `json:"account_id"`
	ServiceTokenID                int64    `json:"service_token_id"`
	ProjectID                     *int64   `json:"project_id"`
	AllProjects                   bool     `json:"all_projects"`
	PermissionSet                 string   `json:"permission_set"`
	State                         int      `json:"state"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
	CreatedAt                     *string  `json:"created_at"`
	UpdatedAt                     *string  `json:"updated_at"`
}

func toServiceTokenJSON(t *tokend.Token, raw string) serviceTokenJSON {
	out := serviceTokenJSON{
		ID: int64(t.ID), AccountID: int64(t.AccountID), UID: t.UID, Name: t.Name, State: int(t.State),
		LastUsed: jsonTime(t.LastUsedAt), LegacyFormat: t.LegacyFormat, RotateRecommended: t.LegacyFormat,
		PermissionGrants:         make([]permissionGrantJSON, len(t.Permissions)),
		ServiceTokenPermissions:  make([]serviceTokenPermissionJSON, len(t.Permissions)),
		SemanticLayerCredentials: []any{},
		CreatedAt:                jsonTime(t.CreatedAt), UpdatedAt: jsonTime(t.UpdatedAt),
		ExpiresAt: jsonTime(t.ExpiresAt), DisabledAt: jsonTime(t.DisabledAt),
	}
	if t.TrustPolicyID != 0 {
		id := int64(t.TrustPolicyID)
		out.Federated, out.TrustPolicyID = true, &id
	}
	if t.LastUsedIP != "" {
		ip := t.LastUsedIP
		out.LastUsedIP = &ip
	}
	if raw != "" {
		out.TokenString = &raw
	}
	for i, p := range t.Permissions {
		pg := permissionGrantJSON{PermissionSet: string(p.Set), WritableEnvironmentCategories: nonNil(p.WritableEnvironmentCategories)}
		if !p.AllProjects {
			pid := p.ProjectID
			pg.ProjectID = &pid
		}
		out.PermissionGrants[i] = pg
		out.ServiceTokenPermissions[i] = toServiceTokenPermissionJSON(t, p)
	}
	return out
}

func toServiceTokenPermissionJSON(t *tokend.Token, p tokend.TokenPermission) serviceTokenPermissionJSON {
	out := serviceTokenPermissionJSON{
		ID: p.ID, AccountID: int64(t.AccountID), ServiceTokenID: int64(t.ID), AllProjects: p.AllProjects,
		PermissionSet: string(p.Set), State: int(tokend.StateActive),
		WritableEnvironmentCategories: nonNil(p.WritableEnvironmentCategories),
		CreatedAt:                     jsonTime(t.UpdatedAt), UpdatedAt: jsonTime(t.UpdatedAt),
	}
	if !p.AllProjects {
		pid := p.ProjectID
		out.ProjectID = &pid
	}
	return out
}

type serviceTokenRequest struct {
	AccountID        *int64      `json:"account_id"`
	Name             *string     `json:"name"`
	State            *int        `json:"state"`
	PermissionGrants []grantJSON `json:"permission_grants"`
	// Older clients send the grants under this name.
	ServiceTokenPermissions []grantJSON `json:"service_token_permissions"`
}

func (s *Server) listServiceTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state")
	if err != nil {
		return err
	}
	state, err := q.exactState()
	if err != nil {
		return err
	}
	ts, total, err := s.svc.ListServiceTokens(r.Context(), p, accountID, state, tokend.TokenQuery{}, q.page)
	if err != nil {
		return err
	}
	out := make([]serviceTokenJSON, len(ts))
	for i, t := range ts {
		out[i] = toServiceTokenJSON(t, "")
	}
	writeList(w, out, len(out), total, q.filters, "id")
	return nil
}

func (s *Server) createServiceToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req serviceTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := checkAccountField(req.AccountID, int64(accountID)); err != nil {
		return err
	}
	if req.Name == nil {
		return tokend.Invalidf("name", "Field \"name\" is required.")
	}
	grants := req.PermissionGrants
	if grants == nil {
		grants = req.ServiceTokenPermissions
	}
	t, raw, err := s.svc.CreateServiceToken(r.Context(), p, accountID, tokend.ServiceTokenInput{Name: *req.Name, Grants: toGrants(grants)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toServiceTokenJSON(t, raw), nil)
	return nil
}

func (s *Server) getServiceToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.ServiceToken(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toServiceTokenJSON(t, ""))
	return nil
}

// updateServiceToken answers PUT and POST on a token: a new name, or state 2 to delete.
func (s *Server) updateServiceToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	var req serviceTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := checkAccountField(req.AccountID, int64(accountID)); err != nil {
		return err
	}
	u := tokend.ServiceTokenUpdate{Name: req.Name}
	if req.State != nil {
		st := tokend.State(*req.State)
		u.State = &st
	}
	t, err := s.svc.UpdateServiceToken(r.Context(), p, accountID, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toServiceTokenJSON(t, ""))
	return nil
}

func (s *Server) deleteServiceToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteServiceToken(r.Context(), p, accountID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateServiceToken is tokend's rotation of a service token: a new one with the same name and
// grants, shown once; the old one stops at once or after overlap_seconds.
func (s *Server) rotateServiceToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	var req rotateRequest
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	if req.OverlapSeconds < 0 || req.OverlapSeconds > int64(tokend.MaxRotationOverlap/time.Second) {
		return tokend.Invalidf("overlap_seconds", "\"overlap_seconds\" must be between 0 and %d.",
			int64(tokend.MaxRotationOverlap/time.Second))
	}
	t, raw, err := s.svc.RotateServiceToken(r.Context(), p, accountID, id, time.Duration(req.OverlapSeconds)*time.Second)
	if err != nil {
		return err
	}
	writeOK(w, toServiceTokenJSON(t, raw))
	return nil
}

// writePermissions answers a token's grants as a list, paged by limit and offset.
func (s *Server) writePermissions(w http.ResponseWriter, r *http.Request, t *tokend.Token) error {
	q, err := readList(r)
	if err != nil {
		return err
	}
	page := q.page
	all := t.Permissions
	start := min(page.Offset, len(all))
	end := min(start+page.Limit, len(all))
	out := make([]serviceTokenPermissionJSON, 0, end-start)
	for _, p := range all[start:end] {
		out = append(out, toServiceTokenPermissionJSON(t, p))
	}
	writeList(w, out, len(out), len(all), q.filters, "id")
	return nil
}

func (s *Server) getServiceTokenPermissions(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "service_token_id")
	if err != nil {
		return err
	}
	t, err := s.svc.ServiceTokenPermissions(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	return s.writePermissions(w, r, t)
}

// setServiceTokenPermissions takes a bare JSON array of grants that replaces the whole set.
func (s *Server) setServiceTokenPermissions(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "service_token_id")
	if err != nil {
		return err
	}
	var req []grantJSON
	if err := decode(r, &req); err != nil {
		return err
	}
	if req == nil {
		return tokend.Invalidf("body", "The body must be a JSON array of permissions.")
	}
	t, err := s.svc.SetServiceTokenPermissions(r.Context(), p, accountID, id, toGrants(req))
	if err != nil {
		return err
	}
	// The answer is the whole new set, whatever its size: it confirms what was written.
	out := make([]serviceTokenPermissionJSON, len(t.Permissions))
	for i, g := range t.Permissions {
		out[i] = toServiceTokenPermissionJSON(t, g)
	}
	writeList(w, out, len(out), len(out), map[string]any{"limit": len(out), "offset": 0}, "id")
	return nil
}
