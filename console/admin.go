package console

import (
	"context"
	"net/http"
	"sort"
	"strconv"

	"tokend"
	"tokend/perm"
)

// Account settings pages for administrators: users, groups, projects, the audit log and the
// token inventory. Each asks the service, which decides what the principal may see.

type usersData struct {
	Members []*tokend.Member
	Pager   pager
	// CanReset says the principal may issue password reset links; Self is their user id,
	// whom they do not reset (they change their password instead).
	CanReset bool
	Self     int64
}

func (c *Console) listUsers(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	ms, total, err := c.svc.ListUsers(r.Context(), in.p, in.account.ID, tokend.MembershipFilter{Page: pg})
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "users.html", "Users", "users", usersData{Members: ms, Pager: newPager(r, pg, len(ms), total),
		CanReset: in.p.Can(perm.Users, perm.Write, 0), Self: in.user.ID})
}

// people maps the account's user ids to e-mails, for naming owners and actors; empty when the
// principal may not read users.
func (c *Console) people(ctx context.Context, in *signedIn) (emails map[int64]string, members map[int64][]*tokend.Member) {
	emails, members = map[int64]string{in.user.ID: in.user.Email}, map[int64][]*tokend.Member{}
	if !in.p.Can(perm.Users, perm.Read, 0) {
		return emails, members
	}
	for off := 0; off < 5000; off += tokend.MaxLimit {
		ms, total, err := c.svc.ListUsers(ctx, in.p, in.account.ID,
			tokend.MembershipFilter{State: tokend.StateActive, Page: tokend.Page{Limit: tokend.MaxLimit, Offset: off}})
		if err != nil {
			c.log.Warn("list users", "err", err)
			return emails, members
		}
		for _, m := range ms {
			emails[m.User.ID] = m.User.Email
			for _, g := range m.Groups {
				members[g.ID] = append(members[g.ID], m)
			}
		}
		if len(ms) == 0 || off+len(ms) >= total {
			break
		}
	}
	return emails, members
}

type groupRow struct {
	*tokend.Group
	Shown []*tokend.Member // the first members
	More  int              // how many are not shown
}

// groupMembersShown is how many members a group's row names.
const groupMembersShown = 8

type groupsData struct {
	Groups     []groupRow
	Projects   map[int64]string
	Plan       perm.Plan
	SeeMembers bool
	Pager      pager
}

func (c *Console) listGroups(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	gs, total, err := c.svc.ListGroups(r.Context(), in.p, in.account.ID, tokend.GroupFilter{State: tokend.StateActive, Page: pg})
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	_, members := c.people(r.Context(), in)
	d := groupsData{Plan: in.account.Plan, Projects: c.projectNames(r.Context(), in), SeeMembers: in.p.Can(perm.Users, perm.Read, 0),
		Pager: newPager(r, pg, len(gs), total)}
	for _, g := range gs {
		ms := members[g.ID]
		row := groupRow{Group: g, Shown: ms}
		if len(ms) > groupMembersShown {
			row.Shown, row.More = ms[:groupMembersShown], len(ms)-groupMembersShown
		}
		d.Groups = append(d.Groups, row)
	}
	c.show(w, r, in, http.StatusOK, "groups.html", "Groups", "groups", d)
}

type projectsData struct {
	Projects []*tokend.Project
	Pager    pager
}

func (c *Console) listProjects(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	ps, total, err := c.svc.ListProjects(r.Context(), in.p, in.account.ID, tokend.ProjectFilter{Page: pg})
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "projects.html", "Projects", "projects", projectsData{Projects: ps, Pager: newPager(r, pg, len(ps), total)})
}

type auditRow struct {
	*tokend.AuditEvent
	Actor  string
	Detail []detailPair
}

type detailPair struct{ Key, Value string }

type auditData struct {
	Events []auditRow
	Pager  pager
}

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	es, total, err := c.svc.AuditLog(r.Context(), in.p, tokend.AuditFilter{AccountID: in.account.ID, Page: pg})
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	emails, _ := c.people(r.Context(), in)
	d := auditData{Pager: newPager(r, pg, len(es), total)}
	for _, e := range es {
		row := auditRow{AuditEvent: e}
		switch {
		case e.ActorUserID != 0 && emails[e.ActorUserID] != "":
			row.Actor = emails[e.ActorUserID]
		case e.ActorUserID != 0:
			row.Actor = "user " + strconv.FormatInt(e.ActorUserID, 10)
		case e.ActorToken != "":
			row.Actor = "token " + e.ActorToken
		default:
			row.Actor = "system"
		}
		for k, v := range e.Detail {
			row.Detail = append(row.Detail, detailPair{k, v})
		}
		sort.Slice(row.Detail, func(i, j int) bool { return row.Detail[i].Key < row.Detail[j].Key })
		d.Events = append(d.Events, row)
	}
	c.show(w, r, in, http.StatusOK, "audit.html", "Audit log", "audit", d)
}

type inventoryRow struct {
	*tokend.Token
	Owner string
}

type inventoryData struct {
	Kind     string
	Tokens   []inventoryRow
	Pager    pager
	Filters  tokenFilters
	CanWrite bool
}

// inventory lists every active token of one kind in the account, for bulk revocation.
func (c *Console) inventory(w http.ResponseWriter, r *http.Request, in *signedIn) {
	kind := tokend.KindPAT
	if r.URL.Query().Get("kind") == string(tokend.KindService) {
		kind = tokend.KindService
	}
	pg := pageOf(r)
	q, err := readTokenQuery(r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	ts, total, err := c.svc.TokenInventory(r.Context(), in.p, tokend.TokenFilter{Kind: kind, AccountID: in.account.ID,
		State: tokend.StateActive, Page: pg}, q)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	emails, _ := c.people(r.Context(), in)
	d := inventoryData{Kind: string(kind), Pager: newPager(r, pg, len(ts), total),
		Filters:  newTokenFilters(r, q, string(kind), kind == tokend.KindService),
		CanWrite: in.p.Can(perm.ServiceTokens, perm.Write, 0)}
	for _, t := range ts {
		row := inventoryRow{Token: t, Owner: "Account"}
		if t.Kind == tokend.KindPAT {
			row.Owner = emails[t.UserID]
			if row.Owner == "" {
				row.Owner = "user " + strconv.FormatInt(t.UserID, 10)
			}
		}
		d.Tokens = append(d.Tokens, row)
	}
	c.show(w, r, in, http.StatusOK, "inventory.html", "Token inventory", "inventory", d)
}

// revokeTokens revokes the checked tokens in one call: all of them or, if one is wrong, none.
func (c *Console) revokeTokens(w http.ResponseWriter, r *http.Request, in *signedIn) {
	var ids []int64
	for _, v := range r.PostForm["token_id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			c.renderError(w, r, in, tokend.Invalidf("token_ids", "%q is not a token id.", v))
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		c.renderError(w, r, in, tokend.Invalidf("token_ids", "Select at least one token to revoke."))
		return
	}
	revoked, err := c.svc.RevokeTokens(r.Context(), in.p, in.account.ID, ids)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	kind := tokend.KindPAT
	if r.PostForm.Get("kind") == string(tokend.KindService) {
		kind = tokend.KindService
	}
	http.Redirect(w, r, "/settings/tokens/inventory?kind="+string(kind)+"&done=revoked&n="+strconv.Itoa(len(revoked)), http.StatusSeeOther)
}

// enableToken enables a token disabled for inactivity, from the inventory.
func (c *Console) enableToken(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID(r)
	if err == nil {
		_, err = c.svc.EnableToken(r.Context(), in.p, in.account.ID, id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	kind := tokend.KindPAT
	if r.PostFormValue("kind") == string(tokend.KindService) {
		kind = tokend.KindService
	}
	http.Redirect(w, r, "/settings/tokens/inventory?kind="+string(kind)+"&done=enabled", http.StatusSeeOther)
}
