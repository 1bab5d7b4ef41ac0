package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/edge"
	"tokend/perm"
)

// page is one parsed page: the shared layouts and partials plus the page's own template.
type page struct {
	tmpl   *template.Template
	layout string // "app" (signed in, with the sidebar) or "bare"
}

// pageLayouts says which layout each page file uses; every file in templates/ except the
// shared ones must be listed.
var pageLayouts = map[string]string{
	"signin.html":                    "bare",
	"noaccount.html":                 "bare",
	"error.html":                     "app",
	"pats.html":                      "app",
	"pat_new.html":                   "app",
	"pat.html":                       "app",
	"pat_delete.html":                "app",
	"pat_rotate.html":                "app",
	"secret.html":                    "app",
	"service_tokens.html":            "app",
	"service_token_new.html":         "app",
	"service_token.html":             "app",
	"service_token_delete.html":      "app",
	"service_token_advice.html":      "app",
	"service_token_rename.html":      "app",
	"service_token_rotate.html":      "app",
	"service_token_permissions.html": "app",
	"apikey.html":                    "app",
	"apikey_rotate.html":             "app",
	"users.html":                     "app",
	"groups.html":                    "app",
	"projects.html":                  "app",
	"audit.html":                     "app",
	"inventory.html":                 "app",
	"device.html":                    "app",
	"trust_policies.html":            "app",
	"trust_policy_new.html":          "app",
	"trust_policy_delete.html":       "app",
	"invitations.html":               "app",
	"password.html":                  "app",
	"password_reset.html":            "bare",
	"reset_link.html":                "app",
	"token_policies.html":            "app",
	"webhooks.html":                  "app",
	"webhook_new.html":               "app",
	"webhook.html":                   "app",
	"webhook_delete.html":            "app",
	"webhook_delivery.html":          "app",
}

var sharedTemplates = []string{"templates/layout.html", "templates/partials.html", "templates/tokenlist.html"}

func mustParsePages(funcs template.FuncMap) map[string]*page {
	pages := make(map[string]*page, len(pageLayouts))
	for name, layout := range pageLayouts {
		files := append([]string{"templates/" + name}, sharedTemplates...)
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			panic(fmt.Sprintf("console: parse %s: %v", name, err))
		}
		pages[name] = &page{tmpl: t, layout: layout}
	}
	return pages
}

// view is what every page template gets. Data is the page's own.
type view struct {
	Title    string
	Section  string // the sidebar entry to mark current
	User     *tokend.User
	Account  *tokend.Account
	Accounts []*tokend.Account
	CSRF     string
	Nav      nav
	Flash    string
	Data     any
}

// nav says which sidebar entries the principal may open; the pages check again through the
// service, the sidebar only avoids offering dead ends.
type nav struct {
	ServiceTokens bool
	Inventory     bool
	Users         bool
	Groups        bool
	Projects      bool
	AuditLog      bool
	Policies      bool
	Webhooks      bool
}

func navFor(p *tokend.Principal) nav {
	if p == nil {
		return nav{}
	}
	return nav{
		ServiceTokens: p.Can(perm.ServiceTokens, perm.Read, 0),
		Inventory:     p.Can(perm.ServiceTokens, perm.Read, 0),
		Users:         p.Can(perm.Users, perm.Read, 0),
		Groups:        p.Can(perm.Groups, perm.Read, 0),
		Projects:      p.CanAnyProject(perm.Projects, perm.Read),
		AuditLog:      p.Can(perm.AuditLog, perm.Read, 0),
		Policies:      p.Can(perm.AccountSettings, perm.Write, 0),
		Webhooks:      p.Can(perm.Webhooks, perm.Read, 0) && p.Can(perm.ServiceTokens, perm.Read, 0),
	}
}

// render writes page name with status. The page is rendered to a buffer first, so that a
// template error becomes a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	pg, ok := c.pages[name]
	if !ok {
		panic("console: no page " + name)
	}
	var buf bytes.Buffer
	if err := pg.tmpl.ExecuteTemplate(&buf, pg.layout, v); err != nil {
		c.log.Error("render console page", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// show renders a signed-in page.
func (c *Console) show(w http.ResponseWriter, r *http.Request, in *signedIn, status int, name, title, section string, data any) {
	v := in.view(title, section, data)
	v.Flash = flashMessage(r)
	c.render(w, r, status, name, v)
}

// errCrossSite answers a form posted from another site, or one whose CSRF token is wrong.
var errCrossSite = &tokend.Error{Code: tokend.EForbidden, Message: "This form was not sent from this console " +
	"(or it expired). Go back, reload the page and try again."}

type errorData struct {
	Status  int
	Heading string
	Message string
}

var errorHeadings = map[int]string{
	http.StatusBadRequest:          "That did not work",
	http.StatusUnauthorized:        "Sign in again",
	http.StatusForbidden:           "You do not have access to this",
	http.StatusNotFound:            "Not found",
	http.StatusConflict:            "That already exists",
	http.StatusTooManyRequests:     "Too many attempts",
	http.StatusServiceUnavailable:  "Temporarily unavailable",
	http.StatusInternalServerError: "Something went wrong",
}

// renderError shows the friendly error page with the domain error's message; internal errors
// are logged and shown as a generic text. in may be nil (no session).
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, in *signedIn, err error) {
	status := edge.Fail(w, r, err)
	d := errorData{Status: status, Heading: errorHeadings[status], Message: tokend.ErrorMessage(err)}
	var e *tokend.Error
	if errors.As(err, &e) && e.Code == tokend.EForbidden && e.Missing != nil && in != nil {
		d.Message = refusal(in, e.Missing)
	}
	v := &view{Title: d.Heading, Data: d}
	if in != nil {
		v = in.view(d.Heading, "", d)
	}
	c.render(w, r, status, "error.html", v)
}

// refusal says in plain words, and without the ids the API's message carries, what the user
// may not do here and who can change that.
func refusal(in *signedIn, m *tokend.Missing) string {
	what := m.Permission
	if r, a, ok := perm.ParseName(m.Permission); ok {
		verb := "see"
		if a == perm.Write {
			verb = "change"
		}
		what = verb + " " + strings.ReplaceAll(r.String(), "_", " ")
	}
	account := "this account"
	if in.account != nil {
		account = in.account.Name
	}
	if m.License != "" {
		return fmt.Sprintf("You cannot %s in %s: your %s license does not allow it, whatever your groups grant. "+
			"An account admin can change your license.", what, account, perm.License(m.License).Label())
	}
	msg := fmt.Sprintf("You cannot %s in %s.", what, account)
	if len(m.GrantedBy) > 0 && in.account != nil {
		labels := make([]string, len(m.GrantedBy))
		for i, s := range m.GrantedBy {
			labels[i] = in.account.Plan.SetLabel(perm.Set(s))
		}
		msg += " An account admin can add you to a group with one of these permission sets: " + strings.Join(labels, ", ") + "."
	}
	return msg
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.renderError(w, r, nil, tokend.Errorf(tokend.ENotFound, "There is no page at this address."))
}

// Flash messages come back after a redirect as a fixed key in the query string, never as text,
// so that no link can make the console say something it did not.
var flashes = map[string]string{
	"pat_deleted":         "The personal access token was deleted. It no longer works.",
	"service_deleted":     "The service token was deleted. It no longer works.",
	"service_renamed":     "The service token was renamed. It works as before.",
	"service_permissions": "The token's permissions were saved. They apply to its next request.",
	"trust_created":       "The trust policy was added. Jobs it matches can exchange their OIDC tokens now.",
	"trust_deleted":       "The trust policy was deleted, and the service tokens it minted no longer work.",
	"signed_out":          "You are signed out.",
	"switched":            "Switched account.",
	"password_changed":    "Your password was changed. Your other sessions are signed out; tokens keep working.",
	"password_reset":      "Your new password is set. Sign in with it.",
	"enabled":             "The token is enabled again; its inactivity clock starts over.",
	"advice_applied":      "The token now holds the narrowest permissions that cover what it used.",
	"policies_saved":      "The token policies are saved. They hold for existing tokens from now on.",
	"webhook_deleted":     "The webhook was deleted, with its queued messages and delivery log.",
	"webhook_redelivered": "The message is queued again; it goes out in a moment under the same message id.",
	"webhook_paused":      "The webhook is paused: new events are not sent to it. Messages already queued still go.",
	"webhook_resumed":     "The webhook is active again: new events are sent to it.",
}

func flashMessage(r *http.Request) string {
	q := r.URL.Query()
	if q.Get("done") == "revoked" {
		n, _ := strconv.Atoi(q.Get("n"))
		if n == 1 {
			return "Revoked 1 token. It no longer works."
		}
		return fmt.Sprintf("Revoked %d tokens. They no longer work.", max(n, 0))
	}
	return flashes[q.Get("done")]
}

// funcs are the template helpers.
func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"static":    func(name string) string { return "/static/" + name + "?v=" + c.version },
		"date":      formatDate,
		"datetime":  formatDateTime,
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":       func(t time.Time) string { return ago(t, c.now()) },
		"eventHelp": func(e string) string { return eventHelp[e] },
		"picked":    func(list []string, s string) bool { return slices.Contains(list, s) },
		"until":     func(t time.Time) string { return until(t, c.now()) },
		"setLabel":  func(plan perm.Plan, s perm.Set) string { return plan.SetLabel(s) },
		"setGrants": setGrants,
		"capName":   perm.Name,
		"license":   licenseLabel,
		"chart":     newChart,
		"spark":     newSparkline,
		"add":       func(a, b int) int { return a + b },
		"minutes":   func(d time.Duration) int { return int(d / time.Minute) },
		"seq":       seq,
		// has reports whether a grant row (perm's plain project ids) holds project id.
		"has":         func(ids []int64, id tokend.ProjectID) bool { return containsID(ids, int64(id)) },
		"initials":    initials,
		"sectionPath": sectionPath,
		"planName":    planName,
		"days":        func(d time.Duration) int { return int(d.Hours() / 24) },
		"expired":     func(t time.Time) bool { return !t.IsZero() && !c.now().Before(t) },
	}
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("Jan 2, 2006")
}

func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("Jan 2, 2006 15:04 UTC")
}

// ago renders a past time for people: "just now", "5 minutes ago", "3 days ago".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "Just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return formatDate(t)
}

// until renders an expiry: "Never", "in 29 days", "Expired".
func until(t, now time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "Expired"
	case d < time.Hour:
		return "in " + plural(max(int(d/time.Minute), 1), "minute")
	case d < 48*time.Hour:
		return "in " + plural(int(d/time.Hour), "hour")
	}
	return "in " + plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// sectionPath is the first page of a sidebar section: where the account switcher returns to,
// since an object of one account means nothing in another.
func sectionPath(section string) string {
	switch section {
	case "pats":
		return "/settings/tokens/personal"
	case "service":
		return "/settings/service-tokens"
	case "inventory":
		return "/settings/tokens/inventory"
	case "trust":
		return "/settings/trust-policies"
	case "policies":
		return "/settings/token-policies"
	case "webhooks":
		return "/settings/webhooks"
	case "users", "groups", "projects":
		return "/settings/" + section
	case "audit":
		return "/settings/audit-log"
	case "apikey":
		return "/profile/api-key"
	}
	return "/"
}

func planName(p perm.Plan) string {
	switch p.Family() {
	case "developer":
		return "Developer"
	case "starter":
		return "Starter"
	case "team":
		return "Team"
	case "enterprise":
		return "Enterprise"
	case "enterprise_plus":
		return "Enterprise+"
	}
	return string(p)
}

func licenseLabel(l perm.License) string {
	switch l {
	case perm.LicenseDeveloper:
		return "Developer"
	case perm.LicenseReadOnly:
		return "Read-Only"
	case perm.LicenseAnalyst:
		return "Analyst"
	case perm.LicenseIT:
		return "IT"
	}
	return string(l)
}

func initials(u *tokend.User) string {
	if u == nil {
		return "?"
	}
	var b strings.Builder
	for _, s := range []string{u.FirstName, u.LastName} {
		if r := []rune(strings.TrimSpace(s)); len(r) > 0 {
			b.WriteRune(r[0])
		}
	}
	if b.Len() == 0 {
		if r := []rune(u.Email); len(r) > 0 {
			b.WriteRune(r[0])
		}
	}
	return strings.ToUpper(b.String())
}

// seq returns 0, 1, …, n-1, for ranging over form rows.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func containsID(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// serveStatic serves the embedded files. A URL carrying the current version is cached for
// good; any other revalidates.
func (c *Console) serveStatic() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(c.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			c.notFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == c.version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

// staticVersion hashes the static files, so that their URLs change when they do.
func staticVersion(fsys fs.FS) string {
	h := sha256.New()
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		h.Write([]byte(path.Clean(p)))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
