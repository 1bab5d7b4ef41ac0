package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"tokend"
)

// Token policies: what holds for every token of the account at use, not only at creation —
// the longest a personal access token may live, how long an unused token keeps working, and
// what a rotation does. Admins only (account settings write); others are not offered the page.

type policiesData struct {
	Lifetimes           []choice
	InactivityDays      string // as typed, so that a refused value is shown again
	ReuseRevokesChain   bool
	OverlapFromFirstUse bool
	Error               string
	Field               string // the field at fault, for aria-invalid
}

// choice is one option of a select.
type choice struct {
	Value    int64
	Label    string
	Selected bool
}

// lifetimeChoices are the caps offered, in seconds, with the current one selected (added when
// it was set through the API to something else).
func lifetimeChoices(current int64) []choice {
	const day = 24 * 60 * 60
	values := []int64{0, 7 * day, 30 * day, 60 * day, 90 * day, 180 * day, 365 * day}
	if !slices.Contains(values, current) {
		values = append(values, current)
		slices.Sort(values)
	}
	out := make([]choice, len(values))
	for i, v := range values {
		out[i] = choice{Value: v, Label: lifetimeLabel(v), Selected: v == current}
	}
	return out
}

func lifetimeLabel(secs int64) string {
	switch d := time.Duration(secs) * time.Second; {
	case secs == 0:
		return "No limit"
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(secs), "second")
	}
}

func policiesOf(a *tokend.Account) policiesData {
	d := policiesData{Lifetimes: lifetimeChoices(int64(a.PATMaxLifetime / time.Second)),
		ReuseRevokesChain: a.ReuseRevokesChain, OverlapFromFirstUse: a.OverlapFromFirstUse}
	if a.InactivityDays > 0 {
		d.InactivityDays = strconv.Itoa(a.InactivityDays)
	}
	return d
}

func (c *Console) tokenPolicies(w http.ResponseWriter, r *http.Request, in *signedIn) {
	a, err := c.svc.TokenPolicies(r.Context(), in.p, in.account.ID)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "token_policies.html", "Token policies", "policies", policiesOf(a))
}

// saveTokenPolicies writes the form's policies (post, redirect, get); a refused value is shown
// again with the reason in plain words.
func (c *Console) saveTokenPolicies(w http.ResponseWriter, r *http.Request, in *signedIn) {
	f := r.PostForm
	reuse, overlap := f.Get("reuse_revokes_chain") == "on", f.Get("overlap_from_first_use") == "on"
	lifetime, lerr := strconv.ParseInt(f.Get("pat_max_lifetime_seconds"), 10, 64)
	typed := f.Get("inactivity_days")
	days, derr := 0, error(nil)
	if typed != "" {
		days, derr = strconv.Atoi(typed)
	}
	again := func(err error) {
		d := policiesData{Lifetimes: lifetimeChoices(lifetime), InactivityDays: typed,
			ReuseRevokesChain: reuse, OverlapFromFirstUse: overlap}
		var de *tokend.Error
		if !errors.As(err, &de) || de.Code != tokend.EInvalid {
			c.renderError(w, r, in, err)
			return
		}
		d.Error, d.Field = de.Message, de.Field
		c.show(w, r, in, http.StatusBadRequest, "token_policies.html", "Token policies", "policies", d)
	}
	switch {
	case lerr != nil:
		lifetime = 0
		again(tokend.Invalidf("pat_max_lifetime_seconds", "Choose a maximum lifetime from the list."))
		return
	case derr != nil:
		again(tokend.Invalidf("inactivity_days", "Write the number of days as a whole number, for example 90, or leave it empty to never disable tokens."))
		return
	}
	_, err := c.svc.UpdateAccount(r.Context(), in.p, in.account.ID, tokend.AccountUpdate{
		PATMaxLifetimeSeconds: &lifetime, InactivityDays: &days,
		ReuseRevokesChain: &reuse, OverlapFromFirstUse: &overlap})
	if err != nil {
		again(err)
		return
	}
	http.Redirect(w, r, "/settings/token-policies?done=policies_saved", http.StatusSeeOther)
}
