package console

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"tokend"
	"tokend/edge"
	"tokend/perm"
)

// Changing a service token in the console: rename it, edit its permission sets, rotate it.
// Each posts, then redirects (a rotation through the shown-once page), so that Back and Reload
// never post twice; the service decides who may, and the pages offer the controls only to them.

// canManageServiceTokens is the service's rule for changing service tokens (write access to
// API tokens, and for a person a Developer or Analyst license), so that the pages offer no
// control that would then be refused.
func canManageServiceTokens(p *tokend.Principal) bool {
	if !p.Can(perm.ServiceTokens, perm.Write, 0) {
		return false
	}
	return p.Kind == tokend.KindService || p.License.CanManageServiceTokens()
}

// refuseServiceTokenForm answers a form to change service tokens, asked for by a user who may
// not, with the refusal the service would give on posting it, in plain words; it reports
// whether it did.
func (c *Console) refuseServiceTokenForm(w http.ResponseWriter, r *http.Request, in *signedIn) bool {
	if canManageServiceTokens(in.p) {
		return false
	}
	e := tokend.MissingCapability(in.p, perm.ServiceTokens, perm.Write, 0)
	if e.Missing != nil && in.p.Can(perm.ServiceTokens, perm.Write, 0) {
		e.Missing.License = string(in.p.License) // the license, not the groups, rules it out
	}
	c.renderError(w, r, in, e)
	return true
}

func serviceTokenPath(id tokend.TokenID) string {
	return "/settings/service-tokens/" + strconv.FormatInt(int64(id), 10)
}

type renameData struct {
	Token *tokend.Token
	Name  string
	Error string
}

func (c *Console) renameServiceTokenForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	if c.refuseServiceTokenForm(w, r, in) {
		return
	}
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "service_token_rename.html", "Rename service token", "service", renameData{Token: t, Name: t.Name})
}

func (c *Console) renameServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	name := r.PostForm.Get("name")
	if _, err := c.svc.UpdateServiceToken(r.Context(), in.p, in.account.ID, t.ID, tokend.ServiceTokenUpdate{Name: &name}); err != nil {
		if tokend.ErrorCode(err) != tokend.EInvalid {
			c.renderError(w, r, in, err)
			return
		}
		c.show(w, r, in, http.StatusBadRequest, "service_token_rename.html", "Rename service token", "service",
			renameData{Token: t, Name: name, Error: tokend.ErrorMessage(err)})
		return
	}
	http.Redirect(w, r, serviceTokenPath(t.ID)+"?done=service_renamed", http.StatusSeeOther)
}

// rowsOf turns a token's grants into the form's rows: one per set for all projects, and one
// per set with its projects gathered.
func rowsOf(grants []perm.Grant) []grantRow {
	var rows []grantRow
	scoped := map[perm.Set]int{} // set → its row of chosen projects
	for _, g := range grants {
		if g.AllProjects {
			rows = append(rows, grantRow{Set: string(g.Set), All: true})
			continue
		}
		i, ok := scoped[g.Set]
		if !ok {
			i = len(rows)
			scoped[g.Set] = i
			rows = append(rows, grantRow{Set: string(g.Set)})
		}
		rows[i].Projects = append(rows[i].Projects, g.ProjectID)
	}
	if len(rows) == 0 {
		rows = []grantRow{{All: true}}
	}
	return rows[:min(len(rows), maxGrantRows)]
}

// keepCategories gives each grant the writable environment categories of the token's grant
// with the same set and scope: the form does not show them, so saving it keeps them.
func keepCategories(grants, old []perm.Grant) []perm.Grant {
	for i, g := range grants {
		for _, o := range old {
			if o.Set == g.Set && o.AllProjects == g.AllProjects && o.ProjectID == g.ProjectID {
				grants[i].WritableEnvironmentCategories = o.WritableEnvironmentCategories
				break
			}
		}
	}
	return grants
}

func (c *Console) permissionsForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	if c.refuseServiceTokenForm(w, r, in) {
		return
	}
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.showPermissionsForm(w, r, in, http.StatusOK, t, serviceTokenForm{Name: t.Name, Rows: rowsOf(t.Grants())})
}

func (c *Console) showPermissionsForm(w http.ResponseWriter, r *http.Request, in *signedIn, status int, t *tokend.Token, d serviceTokenForm) {
	d.Sets = serviceTokenSets(in.account.Plan)
	d.Plan = in.account.Plan.Family()
	d.Projects = c.activeProjects(r.Context(), in)
	d.Token = t
	for i := range d.Rows {
		d.Rows[i].Index = i
	}
	c.show(w, r, in, status, "service_token_permissions.html", "Edit permissions", "service", d)
}

func (c *Console) setPermissions(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	d := serviceTokenForm{Name: t.Name, Rows: readGrantRows(r)}
	if r.PostForm.Get("op") == "add_row" {
		if len(d.Rows) < maxGrantRows {
			d.Rows = append(d.Rows, grantRow{All: true})
		}
		c.showPermissionsForm(w, r, in, http.StatusOK, t, d)
		return
	}
	grants, err := grantsOf(d.Rows)
	if err == nil && len(grants) == 0 {
		err = tokend.Invalidf("permission_grants", "Choose at least one permission set. To stop the token, delete it.")
	}
	if err == nil {
		_, err = c.svc.SetServiceTokenPermissions(r.Context(), in.p, in.account.ID, t.ID, keepCategories(grants, t.Grants()))
		if err == nil {
			http.Redirect(w, r, serviceTokenPath(t.ID)+"?done=service_permissions", http.StatusSeeOther)
			return
		}
	}
	switch tokend.ErrorCode(err) {
	case tokend.EInvalid, tokend.EForbidden:
		// A set over the plan, or above the user's own rights, is a form error.
		d.Error = tokend.ErrorMessage(err)
		var e *tokend.Error
		if errors.As(err, &e) && e.Missing != nil {
			d.Error = refusal(in, e.Missing)
		}
		c.showPermissionsForm(w, r, in, edge.Fail(w, r, err), t, d)
	default:
		c.renderError(w, r, in, err)
	}
}

func (c *Console) confirmRotateServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	if c.refuseServiceTokenForm(w, r, in) {
		return
	}
	t, err := c.serviceToken(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "service_token_rotate.html", "Rotate service token", "service",
		tokenPage{Token: t, Overlaps: overlapChoices})
}

// rotateServiceToken replaces the token with a new one holding the same grants; the old one
// keeps working for the overlap chosen, as the API's rotation does, and the new secret is
// shown once.
func (c *Console) rotateServiceToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.TokenID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	secs, err := strconv.Atoi(r.PostForm.Get("overlap_seconds"))
	if err != nil {
		secs = 0
	}
	t, raw, err := c.svc.RotateServiceToken(r.Context(), in.p, in.account.ID, id, time.Duration(secs)*time.Second)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.showSecretOnce(w, r, in, "service", secretData{
		Kind: "service token", Name: t.Name, UID: t.UID, Secret: raw, Expires: t.ExpiresAt,
		Back: serviceTokenPath(t.ID), Rotated: true, Note: overlapNote(secs)})
}
