package console

import (
	"net/http"
	"strconv"
	"strings"

	"tokend"
	"tokend/perm"
)

// adviceDays is the window of the console's least-privilege advice.
const adviceDays = 30

type advicePage struct {
	Token    *tokend.Token
	Advice   *tokend.Advice
	Plan     perm.Plan
	Projects map[int64]string
	CanWrite bool
	// Proposal is the proposed grants in a fixed spelling: the form sends it back, and the
	// change is applied only if the advice computed then is still this one.
	Proposal string
	Changes  bool
	Stale    bool
}

// proposalKey spells grants in a fixed order, to tell whether the advice moved.
func proposalKey(gs []perm.Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		scope := "all"
		if !g.AllProjects {
			scope = strconv.FormatInt(g.ProjectID, 10)
		}
		parts[i] = string(g.Set) + "@" + scope
	}
	return strings.Join(parts, ",")
}

func (c *Console) advicePage(r *http.Request, in *signedIn) (*advicePage, error) {
	t, err := c.serviceToken(r, in)
	if err != nil {
		return nil, err
	}
	a, err := c.svc.Advice(r.Context(), in.p, in.account.ID, t.ID, adviceDays)
	if err != nil {
		return nil, err
	}
	return &advicePage{Token: t, Advice: a, Plan: in.account.Plan, Projects: c.projectNames(r.Context(), in),
		CanWrite: in.p.Can(perm.ServiceTokens, perm.Write, 0), Proposal: proposalKey(a.Proposed),
		Changes: proposalKey(a.Proposed) != proposalKey(t.Grants())}, nil
}

// showAdvice shows what a service token used in the last 30 days, the narrowest permissions
// that allow it, and what applying them would take away, before anything changes.
func (c *Console) showAdvice(w http.ResponseWriter, r *http.Request, in *signedIn) {
	d, err := c.advicePage(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "service_token_advice.html", "Least privilege", "service", d)
}

// applyAdvice replaces the token's permissions with the advice the page showed; when the
// advice has moved since (new uses), the page is shown again with the new proposal.
func (c *Console) applyAdvice(w http.ResponseWriter, r *http.Request, in *signedIn) {
	d, err := c.advicePage(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	if r.PostFormValue("proposal") != d.Proposal {
		d.Stale = true
		c.show(w, r, in, http.StatusConflict, "service_token_advice.html", "Least privilege", "service", d)
		return
	}
	if _, err := c.svc.SetServiceTokenPermissions(r.Context(), in.p, in.account.ID, d.Token.ID, d.Advice.Proposed); err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/service-tokens/"+strconv.FormatInt(int64(d.Token.ID), 10)+"?done=advice_applied", http.StatusSeeOther)
}
