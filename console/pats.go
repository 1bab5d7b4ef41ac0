package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tokend"
)

// activityDays is the span of the activity charts.
const activityDays = 30

// tokenRow is a token in a list with its activity over the last 30 days.
type tokenRow struct {
	*tokend.Token
	Activity []tokend.DailyUse // nil when it could not be read
}

// withActivity pairs tokens with their daily use. A token whose activity cannot be read is
// listed without a chart rather than failing the page.
func (c *Console) withActivity(ctx context.Context, p *tokend.Principal, ts []*tokend.Token) []tokenRow {
	rows := make([]tokenRow, len(ts))
	for i, t := range ts {
		rows[i].Token = t
		days, err := c.activity(ctx, p, t.ID, activityDays)
		if err != nil {
			c.log.Warn("token activity", "token_id", t.ID, "err", err)
			continue
		}
		rows[i].Activity = days
	}
	return rows
}

type patsData struct {
	Tokens    []tokenRow
	Pager     pager
	Filters   tokenFilters
	CanCreate bool
}

func (c *Console) listPATs(w http.ResponseWriter, r *http.Request, in *signedIn) {
	pg := pageOf(r)
	q, err := readTokenQuery(r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	ts, total, err := c.svc.ListPATs(r.Context(), in.p, in.account.ID, in.user.ID, tokend.StateActive, q, pg)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	d := patsData{Tokens: c.withActivity(r.Context(), in.p, ts), Pager: newPager(r, pg, len(ts), total),
		Filters: newTokenFilters(r, q, "", false), CanCreate: in.p.License.CanCreatePAT()}
	c.show(w, r, in, http.StatusOK, "pats.html", "Personal tokens", "pats", d)
}

// expiryChoices are the lifetimes the create form offers, in days (0: no expiry).
var expiryChoices = []int{0, 7, 30, 60, 90, 365}

type patFormData struct {
	Name        string
	ExpiresIn   string
	ExpiresOn   string
	Choices     []int
	MaxLifetime time.Duration
	Error       string
	Field       string
	CanCreate   bool
}

func (c *Console) newPATForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.showPATForm(w, r, in, http.StatusOK, patFormData{ExpiresIn: "90"})
}

func (c *Console) showPATForm(w http.ResponseWriter, r *http.Request, in *signedIn, status int, d patFormData) {
	d.Choices = expiryChoices
	d.MaxLifetime = in.account.PATMaxLifetime
	d.CanCreate = in.p.License.CanCreatePAT()
	c.show(w, r, in, status, "pat_new.html", "Create personal access token", "pats", d)
}

// secretData is the page that shows a new token string once.
type secretData struct {
	Kind    string // "personal access token", "service token", "API key"
	Name    string
	UID     string
	Secret  string
	Expires time.Time
	Back    string
	Rotated bool
	Note    string
	Gone    bool // shown already: the page says so instead
	// Signing marks a webhook's signing secret: given to a receiver, never sent as a token.
	Signing bool
}

func (c *Console) createPAT(w http.ResponseWriter, r *http.Request, in *signedIn) {
	d := patFormData{Name: r.PostForm.Get("name"), ExpiresIn: r.PostForm.Get("expires_in"),
		ExpiresOn: r.PostForm.Get("expires_on")}
	expires, err := c.patExpiry(d.ExpiresIn, d.ExpiresOn)
	if err == nil {
		t, raw, cerr := c.svc.CreatePAT(r.Context(), in.p, in.account.ID, in.user.ID,
			tokend.PATInput{Name: d.Name, ExpiresAt: expires})
		if cerr == nil {
			c.showSecretOnce(w, r, in, "pats", secretData{
				Kind: "personal access token", Name: t.Name, UID: t.UID, Secret: raw, Expires: t.ExpiresAt,
				Back: "/settings/tokens/personal"})
			return
		}
		err = cerr
	}
	if tokend.ErrorCode(err) != tokend.EInvalid {
		c.renderError(w, r, in, err)
		return
	}
	d.Error = tokend.ErrorMessage(err)
	d.Field = fieldOf(err)
	c.showPATForm(w, r, in, http.StatusBadRequest, d)
}

// patExpiry reads the form's expiry: a date (end of that day, UTC) wins over a lifetime in days.
func (c *Console) patExpiry(in, on string) (time.Time, error) {
	if on = strings.TrimSpace(on); on != "" {
		day, err := time.Parse("2006-01-02", on)
		if err != nil {
			return time.Time{}, tokend.Invalidf("expires_at", "The expiry date must look like 2026-12-31.")
		}
		return day.Add(24*time.Hour - time.Second), nil
	}
	if in == "" || in == "0" {
		return time.Time{}, nil
	}
	days, err := strconv.Atoi(in)
	if err != nil || days < 0 || days > 3650 {
		return time.Time{}, tokend.Invalidf("expires_at", "Choose an expiry from the list.")
	}
	return c.now().Add(time.Duration(days) * 24 * time.Hour), nil
}

func fieldOf(err error) string {
	if e, ok := err.(*tokend.Error); ok {
		return e.Field
	}
	return ""
}

// pathID reads the {id} of a path; anything but a positive integer is not found.
func pathID[ID ~int64](r *http.Request) (ID, error) { return pathIDNamed[ID](r, "id") }

// pathIDNamed is the positive id in the path segment name; anything else is a page not found.
func pathIDNamed[ID ~int64](r *http.Request, name string) (ID, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, tokend.Errorf(tokend.ENotFound, "There is no page at this address.")
	}
	return ID(id), nil
}

// pat loads the user's PAT named by the path.
func (c *Console) pat(r *http.Request, in *signedIn) (*tokend.Token, error) {
	id, err := pathID[tokend.TokenID](r)
	if err != nil {
		return nil, err
	}
	return c.svc.PAT(r.Context(), in.p, in.account.ID, in.user.ID, id)
}

type tokenPage struct {
	Token    *tokend.Token
	Activity []tokend.DailyUse
	Projects map[int64]string
	Overlaps []overlapChoice
}

func (c *Console) showPAT(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, err := c.pat(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	days, err := c.activity(r.Context(), in.p, t.ID, activityDays)
	if err != nil {
		c.log.Warn("token activity", "token_id", t.ID, "err", err)
	}
	c.show(w, r, in, http.StatusOK, "pat.html", t.Name, "pats", tokenPage{Token: t, Activity: days})
}

func (c *Console) confirmDeletePAT(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, err := c.pat(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "pat_delete.html", "Delete personal access token", "pats", tokenPage{Token: t})
}

func (c *Console) deletePAT(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.TokenID](r)
	if err == nil {
		err = c.svc.DeletePAT(r.Context(), in.p, in.account.ID, in.user.ID, id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/tokens/personal?done=pat_deleted", http.StatusSeeOther)
}

// overlapChoice is how long a rotated token may keep working beside its successor.
type overlapChoice struct {
	Seconds int
	Label   string
}

var overlapChoices = []overlapChoice{
	{0, "Stop the old token now"},
	{3600, "Keep the old token for 1 hour"},
	{86400, "Keep the old token for 1 day"},
	{7 * 86400, "Keep the old token for 7 days"},
}

func (c *Console) confirmRotatePAT(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, err := c.pat(r, in)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "pat_rotate.html", "Rotate personal access token", "pats",
		tokenPage{Token: t, Overlaps: overlapChoices})
}

func (c *Console) rotatePAT(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.TokenID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	secs, err := strconv.Atoi(r.PostForm.Get("overlap_seconds"))
	if err != nil {
		secs = 0
	}
	t, raw, err := c.svc.RotatePAT(r.Context(), in.p, in.account.ID, in.user.ID, id, time.Duration(secs)*time.Second)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.showSecretOnce(w, r, in, "pats", secretData{
		Kind: "personal access token", Name: t.Name, UID: t.UID, Secret: raw, Expires: t.ExpiresAt,
		Back: "/settings/tokens/personal", Rotated: true, Note: overlapNote(secs)})
}

// overlapNote says what became of the token a rotation replaced.
func overlapNote(secs int) string {
	if secs <= 0 {
		return "The old token stopped working."
	}
	return "The old token keeps working for " + strings.ToLower(strings.TrimPrefix(labelOf(secs), "Keep the old token for ")) + ", then stops."
}

func labelOf(secs int) string {
	for _, o := range overlapChoices {
		if o.Seconds == secs {
			return o.Label
		}
	}
	return strconv.Itoa(secs) + " seconds"
}
