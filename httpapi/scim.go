package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tokend"
)

// scimTokenJSON is dbt's SCIMToken (CreateSCIMToken on creation, with token_string).
type scimTokenJSON struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	CreatedAt   *string `json:"created_at"`
	LastUsed    *string `json:"last_used"`
	TokenString *string `json:"token_string,omitempty"`
}

func toSCIMTokenJSON(t *tokend.Token, raw string) scimTokenJSON {
	out := scimTokenJSON{ID: int64(t.ID), Name: t.Name, CreatedAt: jsonTime(t.CreatedAt), LastUsed: jsonTime(t.LastUsedAt)}
	if raw != "" {
		out.TokenString = &raw
	}
	return out
}

func (s *Server) listSCIMTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r)
	if err != nil {
		return err
	}
	ts, total, err := s.svc.ListSCIMTokens(r.Context(), p, accountID, q.page)
	if err != nil {
		return err
	}
	out := make([]scimTokenJSON, len(ts))
	for i, t := range ts {
		out[i] = toSCIMTokenJSON(t, "")
	}
	writeList(w, out, len(out), total, q.filters, "id")
	return nil
}

func (s *Server) getSCIMToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.SCIMToken(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toSCIMTokenJSON(t, ""))
	return nil
}

// createSCIMToken answers 201 with the token string, shown this once.
func (s *Server) createSCIMToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req struct {
		Name *string `json:"name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return tokend.Invalidf("name", "\"name\" is required.")
	}
	t, raw, err := s.svc.CreateSCIMToken(r.Context(), p, accountID, *req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toSCIMTokenJSON(t, raw), nil)
	return nil
}

// deleteSCIMToken revokes the token at once; 204, as dbt documents.
func (s *Server) deleteSCIMToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteSCIMToken(r.Context(), p, accountID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SCIM's core schemas, and dbt's extension that carries the license.
const (
	scimUserSchema      = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimDBTUserSchema   = "urn:ietf:params:scim:schemas:extension:dbtLabs:2.0:User"
	scimListSchema      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimMaxItemsPerPage = tokend.MaxLimit
)

// scimUserJSON is dbt's UserSCIM.
type scimUserJSON struct {
	Schemas []string          `json:"schemas"`
	ID      string            `json:"id"`
	Name    scimNameJSON      `json:"name"`
	User    string            `json:"userName"`
	Active  bool              `json:"active"`
	Emails  []scimEmailJSON   `json:"emails"`
	Groups  []scimGroupJSON   `json:"groups"`
	Meta    scimMetaJSON      `json:"meta"`
	DBT     map[string]string `json:"urn:ietf:params:scim:schemas:extension:dbtLabs:2.0:User"`
}

type scimNameJSON struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type scimEmailJSON struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary"`
	Type    string `json:"type"`
}

// scimGroupJSON is dbt's UserGroupComponent: a group the user is in.
type scimGroupJSON struct {
	ID          string       `json:"id"`
	Value       string       `json:"value"`
	Display     string       `json:"display"`
	DisplayName string       `json:"displayName"`
	Meta        scimMetaJSON `json:"meta"`
}

type scimMetaJSON struct {
	ResourceType string  `json:"resourceType"`
	Location     string  `json:"location"`
	Created      *string `json:"created"`
	LastModified *string `json:"lastModified"`
}

func toSCIMUserJSON(m *tokend.Member) scimUserJSON {
	u := m.User
	out := scimUserJSON{
		Schemas: []string{scimUserSchema, scimDBTUserSchema},
		ID:      strconv.FormatInt(int64(u.ID), 10), User: u.Email,
		Name:   scimNameJSON{GivenName: u.FirstName, FamilyName: u.LastName},
		Active: u.State == tokend.StateActive && m.Membership.State == tokend.StateActive,
		Emails: []scimEmailJSON{{Value: u.Email, Primary: true, Type: "work"}},
		Groups: []scimGroupJSON{},
		Meta: scimMetaJSON{ResourceType: "User", Location: fmt.Sprintf("/api/v3/accounts/%d/scim/v2/Users/%d", m.Membership.AccountID, u.ID),
			Created: jsonTime(m.Membership.CreatedAt), LastModified: jsonTime(m.Membership.UpdatedAt)},
		DBT: map[string]string{"licenseType": string(m.Membership.License)},
	}
	for _, g := range m.Groups {
		id := strconv.FormatInt(int64(g.ID), 10)
		out.Groups = append(out.Groups, scimGroupJSON{ID: id, Value: id, Display: g.Name, DisplayName: g.Name,
			Meta: scimMetaJSON{ResourceType: "Group", Location: fmt.Sprintf("/api/v3/accounts/%d/groups/%d/", g.AccountID, g.ID),
				Created: jsonTime(g.CreatedAt), LastModified: jsonTime(g.UpdatedAt)}})
	}
	return out
}

// scimUsers lists the account's members in SCIM's shape, inside dbt's envelope as dbt
// documents it. SCIM's paging (startIndex from 1, count) and the userName eq filter that
// identity providers send before creating a user are understood.
func (s *Server) scimUsers(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "filter", "startIndex", "count")
	if err != nil {
		return err
	}
	page := q.page
	if v := q.get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return tokend.Invalidf("startIndex", "\"startIndex\" must be a positive integer (SCIM counts from 1), got %q.", v)
		}
		page.Offset = n - 1
		q.filters["startIndex"] = n
	}
	if v := q.get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return tokend.Invalidf("count", "\"count\" must be a non-negative integer, got %q.", v)
		}
		page.Limit = min(max(n, 1), scimMaxItemsPerPage)
		q.filters["count"] = n
	}
	var userName string
	if v := q.str("filter"); v != "" {
		if userName, err = scimUserNameFilter(v); err != nil {
			return err
		}
	}
	ms, total, err := s.svc.SCIMUsers(r.Context(), p, accountID, userName, page)
	if err != nil {
		return err
	}
	out := make([]scimUserJSON, len(ms))
	for i, m := range ms {
		out[i] = toSCIMUserJSON(m)
	}
	q.filters["schemas"] = []string{scimListSchema}
	writeList(w, out, len(out), total, q.filters, "id")
	return nil
}

// scimUserNameFilter reads the one SCIM filter tokend applies: userName eq "value".
func scimUserNameFilter(f string) (string, error) {
	attr, rest, _ := strings.Cut(strings.TrimSpace(f), " ")
	op, value, _ := strings.Cut(strings.TrimSpace(rest), " ")
	value = strings.TrimSpace(value)
	if !strings.EqualFold(attr, "userName") || !strings.EqualFold(op, "eq") || len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return "", tokend.Invalidf("filter", "The only filter the SCIM user list applies is userName eq \"<e-mail>\", got %q.", f)
	}
	return value[1 : len(value)-1], nil
}

func (s *Server) scimUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	m, err := s.svc.SCIMUser(r.Context(), p, accountID, userID)
	if err != nil {
		return err
	}
	writeOK(w, toSCIMUserJSON(m))
	return nil
}
