package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"tokend"
	"tokend/perm"
)

// adviceJSON is the least-privilege advice of one token. proposed has the shape of the
// permissions endpoint's body, so that applying it is one POST of that array.
type adviceJSON struct {
	TokenID    int64            `json:"token_id"`
	Kind       string           `json:"kind"`
	Days       int              `json:"days"`
	Since      string           `json:"since"`
	Grants     []grantOutJSON   `json:"grants"`
	Used       []usedJSON       `json:"used"`
	Proposed   []grantOutJSON   `json:"proposed"`
	Loses      []scopedJSON     `json:"loses"`
	Powers     []scopedJSON     `json:"powers"`
	Unused     []scopedJSON     `json:"unused"`
	Automation bool             `json:"automation"`
	Uncovered  []capabilityJSON `json:"uncovered"`
}

type capabilityJSON struct {
	Permission string `json:"permission"` // "projects:read"
	ProjectID  *int64 `json:"project_id"` // null: account-wide
}

type usedJSON struct {
	capabilityJSON
	Count   int64  `json:"count"`
	LastDay string `json:"last_day"`
}

// scopedJSON is capabilities in one scope: "account", "all_projects" or "project".
type scopedJSON struct {
	Scope       string   `json:"scope"`
	ProjectID   *int64   `json:"project_id"`
	Permissions []string `json:"permissions"`
}

func toCapabilityJSON(u perm.Use) capabilityJSON {
	c := capabilityJSON{Permission: perm.Name(u.Resource, u.Access)}
	if u.ProjectID != 0 {
		id := u.ProjectID
		c.ProjectID = &id
	}
	return c
}

func toScopedJSON(in []perm.Scoped) []scopedJSON {
	out := make([]scopedJSON, len(in))
	for i, s := range in {
		out[i] = scopedJSON{Scope: "project", Permissions: s.Caps.Names()}
		switch {
		case s.Account:
			out[i].Scope = "account"
		case s.AllProjects:
			out[i].Scope = "all_projects"
		default:
			id := s.ProjectID
			out[i].ProjectID = &id
		}
	}
	return out
}

// tokenAdvice answers GET …/tokens/{id}/advice/?days=N (30 by default).
func (s *Server) tokenAdvice(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	if err := p.InAccount(accountID); err != nil {
		return err
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			return tokend.Invalidf("days", "\"days\" must be an integer, got %q.", v)
		}
	}
	a, err := s.svc.Advice(r.Context(), p, accountID, id, days)
	if err != nil {
		return err
	}
	out := adviceJSON{TokenID: int64(a.TokenID), Kind: string(a.Kind), Days: a.Days, Since: a.Since.Format(time.DateOnly),
		Grants: toGrantsOut(a.Grants), Used: make([]usedJSON, len(a.Used)), Proposed: toGrantsOut(a.Proposed),
		Loses: toScopedJSON(a.Loses), Powers: toScopedJSON(a.Powers), Unused: toScopedJSON(a.Unused),
		Automation: a.Automation, Uncovered: make([]capabilityJSON, len(a.Uncovered))}
	for i, u := range a.Used {
		out.Used[i] = usedJSON{capabilityJSON: toCapabilityJSON(u.Use), Count: u.Count, LastDay: u.LastDay.Format(time.DateOnly)}
	}
	for i, u := range a.Uncovered {
		out.Uncovered[i] = toCapabilityJSON(u)
	}
	writeOK(w, out)
	return nil
}
