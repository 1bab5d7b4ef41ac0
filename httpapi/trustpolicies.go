package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"tokend"
	"tokend/perm"
)

// trustPolicyJSON is a trust policy: which ID tokens the account exchanges for short-lived
// service tokens, and what those tokens hold. permissions has a service token's shape.
type trustPolicyJSON struct {
	ID          int64             `json:"id"`
	AccountID   int64             `json:"account_id"`
	Name        string            `json:"name"`
	Issuer      string            `json:"issuer"`
	Audience    string            `json:"audience"`
	Claims      map[string]string `json:"claims"`
	Permissions []grantOutJSON    `json:"permissions"`
	TTLSeconds  int               `json:"ttl_seconds"`
	JWKS        json.RawMessage   `json:"jwks"`
	State       int               `json:"state"`
	CreatedBy   *int64            `json:"created_by"`
	CreatedAt   *string           `json:"created_at"`
	UpdatedAt   *string           `json:"updated_at"`
}

// grantOutJSON is a grant as the request sends it, so that what is written reads back as sent.
type grantOutJSON struct {
	PermissionSet                 string   `json:"permission_set"`
	AllProjects                   bool     `json:"all_projects"`
	ProjectID                     *int64   `json:"project_id"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
}

func toGrantsOut(gs []perm.Grant) []grantOutJSON {
	out := make([]grantOutJSON, len(gs))
	for i, g := range gs {
		out[i] = grantOutJSON{PermissionSet: string(g.Set), AllProjects: g.AllProjects,
			WritableEnvironmentCategories: nonNil(g.WritableEnvironmentCategories)}
		if !g.AllProjects {
			pid := g.ProjectID
			out[i].ProjectID = &pid
		}
	}
	return out
}

func toTrustPolicyJSON(p *tokend.TrustPolicy) trustPolicyJSON {
	out := trustPolicyJSON{ID: int64(p.ID), AccountID: int64(p.AccountID), Name: p.Name, Issuer: p.Issuer, Audience: p.Audience,
		Claims: p.Claims, Permissions: toGrantsOut(p.Grants), TTLSeconds: int(p.TTL / time.Second),
		JWKS: json.RawMessage("null"), State: int(p.State), CreatedAt: jsonTime(p.CreatedAt), UpdatedAt: jsonTime(p.UpdatedAt)}
	if out.Claims == nil {
		out.Claims = map[string]string{}
	}
	if p.JWKS != "" {
		out.JWKS = json.RawMessage(p.JWKS)
	}
	if p.CreatedBy != 0 {
		id := int64(p.CreatedBy)
		out.CreatedBy = &id
	}
	return out
}

type trustPolicyRequest struct {
	Name        *string           `json:"name"`
	Issuer      *string           `json:"issuer"`
	Audience    *string           `json:"audience"`
	Claims      map[string]string `json:"claims"`
	Permissions []grantJSON       `json:"permissions"`
	TTLSeconds  *int              `json:"ttl_seconds"`
	JWKS        *json.RawMessage  `json:"jwks"`
}

// jwksText turns the jwks field (a key set object, a string holding one, or null) into the
// stored text: compact JSON, or empty for none.
func jwksText(raw *json.RawMessage) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	b := bytes.TrimSpace(*raw)
	var s string
	switch {
	case bytes.Equal(b, []byte("null")):
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, tokend.Invalidf("jwks", "\"jwks\" must be a JSON Web Key Set.")
		}
		if s != "" {
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(s)); err != nil {
				return nil, tokend.Invalidf("jwks", "\"jwks\" must be a JSON Web Key Set.")
			}
			s = buf.String()
		}
	case len(b) > 0 && b[0] == '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return nil, tokend.Invalidf("jwks", "\"jwks\" must be a JSON Web Key Set.")
		}
		s = buf.String()
	default:
		return nil, tokend.Invalidf("jwks", "\"jwks\" must be a JSON Web Key Set (an object with \"keys\"), or null.")
	}
	return &s, nil
}

func (s *Server) listTrustPolicies(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	lq, err := readList(r, "state")
	if err != nil {
		return err
	}
	state, err := lq.state()
	if err != nil {
		return err
	}
	ps, total, err := s.svc.ListTrustPolicies(r.Context(), p, accountID, state, lq.page)
	if err != nil {
		return err
	}
	out := make([]trustPolicyJSON, len(ps))
	for i, tp := range ps {
		out[i] = toTrustPolicyJSON(tp)
	}
	writeList(w, out, len(out), total, lq.filters, "id")
	return nil
}

func (s *Server) createTrustPolicy(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req trustPolicyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", req.Name}, {"issuer", req.Issuer}, {"audience", req.Audience}} {
		if f.v == nil {
			return tokend.Invalidf(f.name, "Field %q is required.", f.name)
		}
	}
	if req.Permissions == nil {
		return tokend.Invalidf("permissions", "Field \"permissions\" is required: the permission sets the minted tokens hold.")
	}
	in := tokend.TrustPolicyInput{Name: *req.Name, Issuer: *req.Issuer, Audience: *req.Audience, Claims: req.Claims,
		Grants: toGrants(req.Permissions)}
	if req.TTLSeconds != nil {
		in.TTL = time.Duration(*req.TTLSeconds) * time.Second
		if *req.TTLSeconds <= 0 {
			in.TTL = -1 // refused by the service, rather than taken for "default"
		}
	}
	jwks, err := jwksText(req.JWKS)
	if err != nil {
		return err
	}
	if jwks != nil {
		in.JWKS = *jwks
	}
	tp, err := s.svc.CreateTrustPolicy(r.Context(), p, accountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toTrustPolicyJSON(tp), nil)
	return nil
}

func (s *Server) getTrustPolicy(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TrustPolicyID](r, "id")
	if err != nil {
		return err
	}
	tp, err := s.svc.TrustPolicy(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toTrustPolicyJSON(tp))
	return nil
}

// updateTrustPolicy answers PUT and POST on a policy: the fields sent change, the others stay.
func (s *Server) updateTrustPolicy(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TrustPolicyID](r, "id")
	if err != nil {
		return err
	}
	var req trustPolicyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u := tokend.TrustPolicyUpdate{Name: req.Name, Issuer: req.Issuer, Audience: req.Audience, Claims: req.Claims}
	if req.Permissions != nil {
		u.Grants = toGrants(req.Permissions)
	}
	if req.TTLSeconds != nil {
		ttl := time.Duration(*req.TTLSeconds) * time.Second
		u.TTL = &ttl
	}
	if u.JWKS, err = jwksText(req.JWKS); err != nil {
		return err
	}
	tp, err := s.svc.UpdateTrustPolicy(r.Context(), p, accountID, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toTrustPolicyJSON(tp))
	return nil
}

func (s *Server) deleteTrustPolicy(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TrustPolicyID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteTrustPolicy(r.Context(), p, accountID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
