package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/perm"
)

// Trust policies: which CI jobs (by OIDC issuer, audience and claims) may exchange their ID
// token for a short-lived service token of the account, and what that token holds.

type trustPoliciesData struct {
	Policies []*tokend.TrustPolicy
	Pager    pager
	CanWrite bool
	Projects map[int64]string
}

func (c *Console) listTrustPolicies(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	ps, total, err := c.svc.ListTrustPolicies(r.Context(), in.p, in.account.ID, tokend.StateActive, pg)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "trust_policies.html", "Trust policies", "trust", trustPoliciesData{
		Policies: ps, Pager: newPager(r, pg, len(ps), total), CanWrite: in.p.Can(perm.ServiceTokens, perm.Write, 0),
		Projects: c.projectNames(r.Context(), in)})
}

// trustPolicyForm is the new-policy form. Conditions are one "claim = value" per line.
type trustPolicyForm struct {
	Name       string
	Issuer     string
	Audience   string
	Conditions string
	TTLMinutes int
	JWKS       string
	Rows       []grantRow
	Sets       []setChoice
	Projects   []*tokend.Project
	TTLChoices []int
	Error      string
}

func (c *Console) newTrustPolicyForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.showTrustPolicyForm(w, r, in, http.StatusOK, trustPolicyForm{
		Issuer: "https://token.actions.githubusercontent.com", Audience: "tokend",
		Conditions: "repository = my-org/my-repo\nref = refs/heads/main", TTLMinutes: 15,
		Rows: []grantRow{{All: true}}})
}

func (c *Console) showTrustPolicyForm(w http.ResponseWriter, r *http.Request, in *signedIn, status int, d trustPolicyForm) {
	d.Sets = serviceTokenSets(in.account.Plan)
	d.Projects = c.activeProjects(r.Context(), in)
	d.TTLChoices = []int{5, 15, 30, 60}
	for i := range d.Rows {
		d.Rows[i].Index = i
	}
	c.show(w, r, in, status, "trust_policy_new.html", "New trust policy", "trust", d)
}

// parseConditions reads "claim = value" lines; blank lines are skipped.
func parseConditions(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, tokend.Invalidf("claims", "Condition line %d: write it as claim = value, for example repository = my-org/my-repo.", i+1)
		}
		out[name] = value
	}
	return out, nil
}

func (c *Console) createTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	ttl, _ := strconv.Atoi(r.PostForm.Get("ttl_minutes"))
	d := trustPolicyForm{Name: r.PostForm.Get("name"), Issuer: r.PostForm.Get("issuer"), Audience: r.PostForm.Get("audience"),
		Conditions: r.PostForm.Get("claims"), TTLMinutes: ttl, JWKS: r.PostForm.Get("jwks"), Rows: readGrantRows(r)}
	if r.PostForm.Get("op") == "add_row" {
		if len(d.Rows) < maxGrantRows {
			d.Rows = append(d.Rows, grantRow{All: true})
		}
		c.showTrustPolicyForm(w, r, in, http.StatusOK, d)
		return
	}
	claims, err := parseConditions(d.Conditions)
	var grants []perm.Grant
	if err == nil {
		grants, err = grantsOf(d.Rows)
	}
	if err == nil && len(grants) == 0 {
		err = tokend.Invalidf("permissions", "Choose at least one permission set.")
	}
	if err == nil && !slices.Contains([]int{5, 15, 30, 60}, ttl) {
		err = tokend.Invalidf("ttl_seconds", "Choose a lifetime.")
	}
	if err == nil {
		var tp *tokend.TrustPolicy
		tp, err = c.svc.CreateTrustPolicy(r.Context(), in.p, in.account.ID, tokend.TrustPolicyInput{Name: d.Name,
			Issuer: d.Issuer, Audience: d.Audience, Claims: claims, Grants: grants, TTL: time.Duration(ttl) * time.Minute, JWKS: d.JWKS})
		if err == nil {
			http.Redirect(w, r, "/settings/trust-policies?done=trust_created#policy-"+strconv.FormatInt(tp.ID, 10), http.StatusSeeOther)
			return
		}
	}
	switch tokend.ErrorCode(err) {
	case tokend.EInvalid, tokend.EForbidden:
		d.Error = tokend.ErrorMessage(err)
		c.showTrustPolicyForm(w, r, in, statusOf(tokend.ErrorCode(err)), d)
	default:
		c.renderError(w, r, in, err)
	}
}

type trustPolicyPage struct {
	Policy *tokend.TrustPolicy
}

func (c *Console) confirmDeleteTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID(r)
	var tp *tokend.TrustPolicy
	if err == nil {
		tp, err = c.svc.TrustPolicy(r.Context(), in.p, in.account.ID, id)
	}
	if err == nil && tp.State != tokend.StateActive {
		err = tokend.Errorf(tokend.ENotFound, "Trust policy %d was deleted.", id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "trust_policy_delete.html", "Delete trust policy", "trust", trustPolicyPage{Policy: tp})
}

func (c *Console) deleteTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID(r)
	if err == nil {
		err = c.svc.DeleteTrustPolicy(r.Context(), in.p, in.account.ID, id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/trust-policies?done=trust_deleted", http.StatusSeeOther)
}
