package console

import (
	"context"
	"net/http"
	"strconv"

	"tokend"
	"tokend/edge"
	"tokend/perm"
)

type serviceTokensData struct {
	Tokens   []tokenRow
	Pager    pager
	Filters  tokenFilters
	CanWrite bool
	Projects map[int64]string
}

func (c *Console) listServiceTokens(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	q, err := readTokenQuery(r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	ts, total, err := c.svc.ListServiceTokens(r.Context(), in.p, in.account.ID, tokend.StateActive, q, pg)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	d := serviceTokensData{Tokens: c.withActivity(r.Context(), in.p, ts), Pager: newPager(r, pg, len(ts), total),
		Filters:  newTokenFilters(r, q, "", true),
		CanWrite: canManageServiceTokens(in.p), Projects: c.projectNames(r.Context(), in)}
	c.show(w, r, in, http.StatusOK, "service_tokens.html", "Service tokens", "service", d)
}

// maxGrantRows bounds the rows of the new-token form.
const maxGrantRows = 20

// grantRow is one row of the new-token form: a permission set for all projects or for the
// chosen ones.
type grantRow struct {
	Index    int
	Set      string
	All      bool
	Projects []int64
}

type setChoice struct {
	Set   perm.Set
	Label string
	// Grants says what the set grants, from perm's table.
	Grants string
}

type serviceTokenForm struct {
	Token    *tokend.Token // the token whose permissions are edited; nil for a new one
	Name     string
	Rows     []grantRow
	Sets     []setChoice
	Projects []*tokend.Project
	Plan     string
	Error    string
}

func (c *Console) newServiceTokenForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	if c.refuseServiceTokenForm(w, r, in) {
		return
	}
	c.showServiceTokenForm(w, r, in, http.StatusOK, serviceTokenForm{Rows: []grantRow{{All: true}}})
}

// showServiceTokenForm offers only the permission sets the account's plan allows on service
// tokens, labelled as the plan calls them.
func (c *Console) showServiceTokenForm(w http.ResponseWriter, r *http.Request, in *signedIn, status int, d serviceTokenForm) {
	plan := in.account.Plan
	d.Sets = serviceTokenSets(plan)
	d.Plan = plan.Family()
	d.Projects = c.activeProjects(r.Context(), in)
	for i := range d.Rows {
		d.Rows[i].Index = i
	}
	c.show(w, r, in, status, "service_token_new.html", "New service token", "service", d)
}

// serviceTokenSets are the permission sets the plan allows on service tokens (and trust
// policies), labelled as the plan calls them.
func serviceTokenSets(plan perm.Plan) []setChoice {
	var out []setChoice
	seen := map[string]bool{}
	for _, s := range perm.Sets() {
		// On the Team plan account_admin is shown as "Owner", like owner itself: offer it once.
		if label := plan.SetLabel(s); plan.AllowsServiceTokenSet(s) && !seen[label] {
			seen[label] = true
			out = append(out, setChoice{s, label, setGrants(s)})
		}
	}
	return out
}

// activeProjects lists the account's active projects the user may see (none when they may
// see none), for choosing a grant's scope and naming projects.
func (c *Console) activeProjects(ctx context.Context, in *signedIn) []*tokend.Project {
	var out []*tokend.Project
	for off := 0; off < 1000; off += tokend.MaxLimit {
		ps, total, err := c.svc.ListProjects(ctx, in.p, in.account.ID,
			tokend.ProjectFilter{State: tokend.StateActive, Page: tokend.Page{Limit: tokend.MaxLimit, Offset: off}})
		if err != nil {
			if tokend.ErrorCode(err) != tokend.EForbidden {
				c.log.Warn("list projects", "err", err)
			}
			return out
		}
		out = append(out, ps...)
		if len(ps) == 0 || off+len(ps) >= total {
			break
		}
	}
	return out
}

// projectNames maps the ids of the projects the user may see to their names.
func (c *Console) projectNames(ctx context.Context, in *signedIn) map[int64]string {
	names := map[int64]string{}
	for _, p := range c.activeProjects(ctx, in) {
		names[int64(p.ID)] = p.Name
	}
	return names
}

// readGrantRows reads the form's rows: set_N, scope_N ("all" or "projects") and projects_N.
func readGrantRows(r *http.Request) []grantRow {
	n, _ := strconv.Atoi(r.PostForm.Get("rows"))
	n = min(max(n, 1), maxGrantRows)
	rows := make([]grantRow, n)
	for i := range rows {
		k := strconv.Itoa(i)
		rows[i] = grantRow{Index: i, Set: r.PostForm.Get("set_" + k), All: r.PostForm.Get("scope_"+k) != "projects"}
		for _, v := range r.PostForm["projects_"+k] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
				rows[i].Projects = append(rows[i].Projects, id)
			}
		}
	}
	return rows
}

// grantsOf turns the rows into grants: one per row for all projects, one per chosen project
// otherwise. Rows without a set are skipped.
func grantsOf(rows []grantRow) ([]perm.Grant, error) {
	var out []perm.Grant
	for i, row := range rows {
		if row.Set == "" {
			continue
		}
		set := perm.Set(row.Set)
		if row.All {
			out = append(out, perm.Grant{Set: set, AllProjects: true})
			continue
		}
		if len(row.Projects) == 0 {
			return nil, tokend.Invalidf("permission_grants", "Permission set %d (%s): choose at least one project, or All projects.", i+1, set.Label())
		}
		for _, id := range row.Projects {
			out = append(out, perm.Grant{Set: set, ProjectID: id})
		}
	}
	return out, nil
}

func (c *Console) createServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	d := serviceTokenForm{Name: r.PostForm.Get("name"), Rows: readGrantRows(r)}
	if r.PostForm.Get("op") == "add_row" {
		if len(d.Rows) < maxGrantRows {
			d.Rows = append(d.Rows, grantRow{All: true})
		}
		c.showServiceTokenForm(w, r, in, http.StatusOK, d)
		return
	}
	grants, err := grantsOf(d.Rows)
	if err == nil && len(grants) == 0 {
		err = tokend.Invalidf("permission_grants", "Choose at least one permission set.")
	}
	if err == nil {
		t, raw, cerr := c.svc.CreateServiceToken(r.Context(), in.p, in.account.ID,
			tokend.ServiceTokenInput{Name: d.Name, Grants: grants})
		if cerr == nil {
			c.showSecretOnce(w, r, in, "service", secretData{
				Kind: "service token", Name: t.Name, UID: t.UID, Secret: raw,
				Back: "/settings/service-tokens/" + strconv.FormatInt(int64(t.ID), 10)})
			return
		}
		err = cerr
	}
	switch tokend.ErrorCode(err) {
	case tokend.EInvalid, tokend.EForbidden:
		// A refused grant (over the plan, or above the user's own rights) is a form error.
		d.Error = tokend.ErrorMessage(err)
		c.showServiceTokenForm(w, r, in, edge.Fail(w, r, err), d)
	default:
		c.renderError(w, r, in, err)
	}
}

// serviceToken loads the account's service token named by the path.
func (c *Console) serviceToken(r *http.Request, in *signedIn) (*tokend.Token, error) {
	id, err := pathID[tokend.TokenID](r)
	if err != nil {
		return nil, err
	}
	t, err := c.svc.ServiceToken(r.Context(), in.p, in.account.ID, id)
	if err != nil {
		return nil, err
	}
	if t.State != tokend.StateActive {
		return nil, tokend.Errorf(tokend.ENotFound, "Service token %d was deleted.", id)
	}
	return t, nil
}

type serviceTokenPage struct {
	tokenPage
	Plan     perm.Plan
	CanWrite bool
}

func (c *Console) showServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	days, err := c.activity(r.Context(), in.p, t.ID, activityDays)
	if err != nil {
		c.log.Warn("token activity", "token_id", t.ID, "err", err)
	}
	names := c.projectNames(r.Context(), in)
	c.show(w, r, in, http.StatusOK, "service_token.html", t.Name, "service", serviceTokenPage{
		tokenPage: tokenPage{Token: t, Activity: days, Projects: names}, Plan: in.account.Plan,
		CanWrite: canManageServiceTokens(in.p)})
}

func (c *Console) confirmDeleteServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	if c.refuseServiceTokenForm(w, r, in) {
		return
	}
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "service_token_delete.html", "Delete service token", "service", tokenPage{Token: t})
}

func (c *Console) deleteServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.TokenID](r)
	if err == nil {
		err = c.svc.DeleteServiceToken(r.Context(), in.p, in.account.ID, id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/service-tokens?done=service_deleted", http.StatusSeeOther)
}
