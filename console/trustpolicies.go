package console

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/edge"
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
	// ID is the policy being edited (zero: a new one).
	ID tokend.TrustPolicyID
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
	if d.TTLMinutes > 0 && !slices.Contains(d.TTLChoices, d.TTLMinutes) {
		d.TTLChoices = append(d.TTLChoices, d.TTLMinutes) // a policy written through the API
		slices.Sort(d.TTLChoices)
	}
	for i := range d.Rows {
		d.Rows[i].Index = i
	}
	title := "New trust policy"
	if d.ID != 0 {
		title = "Edit trust policy"
	}
	c.show(w, r, in, status, "trust_policy_new.html", title, "trust", d)
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

// readTrustPolicyForm reads the form into d and, unless the post only adds a row, into the
// service's terms; err is a form error to show.
func readTrustPolicyForm(r *http.Request) (d trustPolicyForm, claims map[string]string, grants []perm.Grant, err error) {
	ttl, _ := strconv.Atoi(r.PostForm.Get("ttl_minutes"))
	d = trustPolicyForm{Name: r.PostForm.Get("name"), Issuer: r.PostForm.Get("issuer"), Audience: r.PostForm.Get("audience"),
		Conditions: r.PostForm.Get("claims"), TTLMinutes: ttl, JWKS: r.PostForm.Get("jwks"), Rows: readGrantRows(r)}
	claims, err = parseConditions(d.Conditions)
	if err == nil {
		grants, err = grantsOf(d.Rows)
	}
	if err == nil && len(grants) == 0 {
		err = tokend.Invalidf("permissions", "Choose at least one permission set.")
	}
	if err == nil && (ttl < 1 || ttl > 60) {
		err = tokend.Invalidf("ttl_seconds", "Choose a lifetime.")
	}
	return d, claims, grants, err
}

func (c *Console) createTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.saveTrustPolicy(w, r, in, 0)
}

func (c *Console) updateTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.TrustPolicyID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.saveTrustPolicy(w, r, in, id)
}

// saveTrustPolicy creates a policy (id zero) or replaces policy id's terms with the form's.
func (c *Console) saveTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn, id tokend.TrustPolicyID) {
	d, claims, grants, err := readTrustPolicyForm(r)
	d.ID = id
	if r.PostForm.Get("op") == "add_row" {
		if len(d.Rows) < maxGrantRows {
			d.Rows = append(d.Rows, grantRow{All: true})
		}
		c.showTrustPolicyForm(w, r, in, http.StatusOK, d)
		return
	}
	if err == nil {
		ttl := time.Duration(d.TTLMinutes) * time.Minute
		var tp *tokend.TrustPolicy
		if id == 0 {
			tp, err = c.svc.CreateTrustPolicy(r.Context(), in.p, in.account.ID, tokend.TrustPolicyInput{Name: d.Name,
				Issuer: d.Issuer, Audience: d.Audience, Claims: claims, Grants: grants, TTL: ttl, JWKS: d.JWKS})
		} else {
			tp, err = c.svc.UpdateTrustPolicy(r.Context(), in.p, in.account.ID, id, tokend.TrustPolicyUpdate{Name: &d.Name,
				Issuer: &d.Issuer, Audience: &d.Audience, Claims: claims, Grants: grants, TTL: &ttl, JWKS: &d.JWKS})
		}
		if err == nil {
			done := "trust_created"
			if id != 0 {
				done = "trust_updated"
			}
			http.Redirect(w, r, "/settings/trust-policies?done="+done+"#policy-"+strconv.FormatInt(int64(tp.ID), 10), http.StatusSeeOther)
			return
		}
	}
	switch tokend.ErrorCode(err) {
	case tokend.EInvalid, tokend.EForbidden:
		d.Error = tokend.ErrorMessage(err)
		c.showTrustPolicyForm(w, r, in, edge.StatusOf(err), d)
	default:
		c.renderError(w, r, in, err)
	}
}

// editTrustPolicyForm shows a policy's terms in the form.
func (c *Console) editTrustPolicyForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	tp, err := c.activeTrustPolicy(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(tp.Claims)) {
		lines = append(lines, k+" = "+tp.Claims[k])
	}
	d := trustPolicyForm{ID: tp.ID, Name: tp.Name, Issuer: tp.Issuer, Audience: tp.Audience, Conditions: strings.Join(lines, "\n"),
		TTLMinutes: int(tp.TTL / time.Minute), JWKS: tp.JWKS}
	// One row per set: its projects together, or all projects.
	for _, g := range tp.Grants {
		i := slices.IndexFunc(d.Rows, func(row grantRow) bool { return row.Set == string(g.Set) && !row.All && !g.AllProjects })
		switch {
		case g.AllProjects:
			d.Rows = append(d.Rows, grantRow{Set: string(g.Set), All: true})
		case i >= 0:
			d.Rows[i].Projects = append(d.Rows[i].Projects, g.ProjectID)
		default:
			d.Rows = append(d.Rows, grantRow{Set: string(g.Set), Projects: []int64{g.ProjectID}})
		}
	}
	if len(d.Rows) == 0 {
		d.Rows = []grantRow{{All: true}}
	}
	c.showTrustPolicyForm(w, r, in, http.StatusOK, d)
}

// activeTrustPolicy loads the account's active policy named by the path.
func (c *Console) activeTrustPolicy(r *http.Request, in *signedIn) (*tokend.TrustPolicy, error) {
	id, err := pathID[tokend.TrustPolicyID](r)
	if err != nil {
		return nil, err
	}
	tp, err := c.svc.TrustPolicy(r.Context(), in.p, in.account.ID, id)
	if err != nil {
		return nil, err
	}
	if tp.State != tokend.StateActive {
		return nil, tokend.Errorf(tokend.ENotFound, "Trust policy %d was deleted.", id)
	}
	return tp, nil
}

type trustPolicyPage struct {
	Policy *tokend.TrustPolicy
}

func (c *Console) confirmDeleteTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	tp, err := c.activeTrustPolicy(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "trust_policy_delete.html", "Delete trust policy", "trust", trustPolicyPage{Policy: tp})
}

func (c *Console) deleteTrustPolicy(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.TrustPolicyID](r)
	if err == nil {
		err = c.svc.DeleteTrustPolicy(r.Context(), in.p, in.account.ID, id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/trust-policies?done=trust_deleted", http.StatusSeeOther)
}
