package console

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/edge"
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
	Self     tokend.UserID
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
func (c *Console) people(ctx context.Context, in *signedIn) (emails map[tokend.UserID]string, members map[tokend.GroupID][]*tokend.Member) {
	emails, members = map[tokend.UserID]string{in.user.ID: in.user.Email}, map[tokend.GroupID][]*tokend.Member{}
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
	Events  []auditRow
	Pager   pager
	Filters auditFilters
	// Error says why the filters were refused (a bad date, a range that ends before it starts).
	Error string
}

// auditFilters is the audit log's filter form, as the query string carries it: the page is a
// GET, so a filtered log can be bookmarked, shared and reloaded, and the pager keeps it.
type auditFilters struct {
	EventType, Token, From, To string
	Actor                      int64
	Actors                     []auditActor // whom the actor list offers: the account's people
	Filtered                   bool
	ExportCSV, ExportJSON      string // the exports of what the filters select
}

type auditActor struct {
	ID    int64
	Email string
}

// auditQuery reads the audit log's filters from r: event_type, actor (a user id), token (a
// token ID), and from and to (dates, both inclusive, in UTC).
func auditQuery(r *http.Request, accountID tokend.AccountID) (auditFilters, tokend.AuditFilter, error) {
	q := r.URL.Query()
	af := auditFilters{EventType: strings.TrimSpace(q.Get("event_type")), Token: strings.TrimSpace(q.Get("token")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	f := tokend.AuditFilter{AccountID: accountID, Action: af.EventType, TokenUID: af.Token}
	exp := url.Values{}
	for k, v := range map[string]string{"event_type": af.EventType, "token": af.Token, "from": af.From, "to": af.To} {
		if v != "" {
			exp.Set(k, v)
		}
	}
	if v := q.Get("actor"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return af, f, tokend.Invalidf("actor", "Choose the actor from the list.")
		}
		af.Actor, f.ActorUserID = id, tokend.UserID(id)
		exp.Set("actor", v)
	}
	if af.From != "" {
		t, err := time.Parse(time.DateOnly, af.From)
		if err != nil {
			return af, f, tokend.Invalidf("from", "The start date must be a date like 2025-01-31.")
		}
		f.Since = t
	}
	if af.To != "" {
		t, err := time.Parse(time.DateOnly, af.To)
		if err != nil {
			return af, f, tokend.Invalidf("to", "The end date must be a date like 2025-01-31.")
		}
		f.Until = t.AddDate(0, 0, 1) // the whole of that day
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return af, f, tokend.Invalidf("to", "The end date must not be before the start date.")
	}
	af.Filtered = len(exp) > 0
	exp.Set("format", "csv")
	af.ExportCSV = "/settings/audit-log/export?" + exp.Encode()
	exp.Set("format", "json")
	af.ExportJSON = "/settings/audit-log/export?" + exp.Encode()
	return af, f, nil
}

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	emails, _ := c.people(r.Context(), in)
	af, f, err := auditQuery(r, in.account.ID)
	for id, email := range emails {
		af.Actors = append(af.Actors, auditActor{int64(id), email})
	}
	sort.Slice(af.Actors, func(i, j int) bool { return af.Actors[i].Email < af.Actors[j].Email })
	var (
		es    []*tokend.AuditEvent
		total int
	)
	if err == nil {
		f.Page = pg
		es, total, err = c.svc.AuditLog(r.Context(), in.p, f)
	}
	if err != nil {
		if tokend.ErrorCode(err) != tokend.EInvalid {
			c.renderError(w, r, in, err)
			return
		}
		// A bad filter: the form again, saying what is wrong.
		c.show(w, r, in, http.StatusBadRequest, "audit.html", "Audit log", "audit", auditData{Filters: af, Error: tokend.ErrorMessage(err)})
		return
	}
	d := auditData{Pager: newPager(r, pg, len(es), total), Filters: af}
	for _, e := range es {
		row := auditRow{AuditEvent: e}
		switch {
		case e.ActorUserID != 0 && emails[e.ActorUserID] != "":
			row.Actor = emails[e.ActorUserID]
		case e.ActorUserID != 0:
			row.Actor = "user " + strconv.FormatInt(int64(e.ActorUserID), 10)
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

// exportAudit downloads what the audit log's filters select, as CSV or JSON (format), read from
// the store page by page.
func (c *Console) exportAudit(w http.ResponseWriter, r *http.Request, in *signedIn) {
	_, f, err := auditQuery(r, in.account.ID)
	if err == nil {
		var x *tokend.AuditExport
		if x, err = c.svc.ExportAudit(r.Context(), in.p, f); err == nil {
			var format string
			if format, err = edge.AuditFormat(r.URL.Query().Get("format")); err == nil {
				err = edge.ExportAudit(r.Context(), w, x, format, edge.AuditExportName(in.account.Name, c.now()))
			}
		}
	}
	if err != nil {
		c.renderError(w, r, in, err)
	}
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
				row.Owner = "user " + strconv.FormatInt(int64(t.UserID), 10)
			}
		}
		d.Tokens = append(d.Tokens, row)
	}
	c.show(w, r, in, http.StatusOK, "inventory.html", "Token inventory", "inventory", d)
}

// revokeTokens revokes the checked tokens in one call: all of them or, if one is wrong, none.
func (c *Console) revokeTokens(w http.ResponseWriter, r *http.Request, in *signedIn) {
	var ids []tokend.TokenID
	for _, v := range r.PostForm["token_id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			c.renderError(w, r, in, tokend.Invalidf("token_ids", "%q is not a token id.", v))
			return
		}
		ids = append(ids, tokend.TokenID(id))
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
	id, err := pathID[tokend.TokenID](r)
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
