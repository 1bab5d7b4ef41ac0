package console

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"tokend"
	"tokend/edge"
)

// Account recovery in the console: Personal settings → Password (change it, signed in), and
// the page a reset link opens (public: the link's code is the authorization).

type passwordData struct {
	Error string
	Field string // the field at fault, for aria-invalid
}

func (c *Console) passwordForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.show(w, r, in, http.StatusOK, "password.html", "Password", "password", passwordData{})
}

// changePassword has the service check the current password (wrong ones are limited per
// user), set the new one and end every other session of the user; this one stays.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, in *signedIn) {
	cur, next := r.PostForm.Get("current_password"), r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		c.show(w, r, in, http.StatusBadRequest, "password.html", "Password", "password", passwordData{
			Error: "The two new passwords differ. Type the same one twice.", Field: "confirm_password"})
		return
	}
	err := c.svc.ChangePassword(r.Context(), in.p, in.user.ID, cur, next, in.sess.ID)
	if tokend.ErrorCode(err) == tokend.ERateLimited {
		edge.Fail(w, r, err) // Retry-After
		c.show(w, r, in, http.StatusTooManyRequests, "password.html", "Password", "password", passwordData{
			Error: "Too many wrong passwords. Wait " + waitText(err) + " and try again.", Field: "current_password"})
		return
	}
	if err != nil {
		var de *tokend.Error
		if !errors.As(err, &de) || de.Code != tokend.EInvalid {
			c.renderError(w, r, in, err)
			return
		}
		c.show(w, r, in, http.StatusBadRequest, "password.html", "Password", "password", passwordData{Error: de.Message, Field: de.Field})
		return
	}
	http.Redirect(w, r, "/profile/password?done=password_changed", http.StatusSeeOther)
}

type resetLinkData struct {
	Email   string    `json:"email"`
	Link    string    `json:"link"`
	Expires time.Time `json:"expires"`
}

// createResetLink issues a one-time reset link for a member and shows it once, through the
// shown-once page (post, redirect, get: Reload and Back never issue another link, which would
// void this one); the admin hands it over. The service decides who may (users write, every
// grant the member holds, a member of this account only).
func (c *Console) createResetLink(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.renderError(w, r, in, tokend.Errorf(tokend.ENotFound, "There is no such user."))
		return
	}
	pr, code, err := c.svc.CreatePasswordReset(r.Context(), in.p, in.account.ID, tokend.UserID(id), 0)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	u, err := c.svc.AccountUser(r.Context(), in.p, in.account.ID, tokend.UserID(id))
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	scheme := "http"
	if c.secure(r) {
		scheme = "https"
	}
	c.showOnce(w, r, in, shownOnce{Section: "users", Reset: &resetLinkData{
		Email: u.User.Email, Link: scheme + "://" + r.Host + tokend.PasswordResetPath + "#" + code, Expires: pr.ExpiresAt}})
}

type resetData struct {
	Token string // double-submit token of the form
	Error string
	Field string
}

// resetPage shows the reset form. The code is in the link's fragment, which the browser keeps
// to itself: console.js copies it into the form, and without script the person pastes it.
func (c *Console) resetPage(w http.ResponseWriter, r *http.Request) {
	c.showReset(w, r, http.StatusOK, resetData{})
}

// showReset shows the form with d's token, or a fresh one when d has none.
func (c *Console) showReset(w http.ResponseWriter, r *http.Request, status int, d resetData) {
	if d.Token == "" {
		b := make([]byte, 32)
		if _, err := io.ReadFull(c.opts.Rand, b); err != nil {
			c.renderError(w, r, nil, err)
			return
		}
		d.Token = base64.RawURLEncoding.EncodeToString(b)
	}
	c.setCookie(w, r, signInCookie, d.Token, 3600, http.SameSiteStrictMode)
	c.render(w, r, status, "password_reset.html", &view{Title: "Set a new password", Data: d})
}

// resetPassword redeems the code; wrong codes count against the address as failed sign-ins.
func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, tokend.Errorf(tokend.EInvalid, "The form could not be read."))
		return
	}
	want := c.cookie(r, signInCookie)
	if got := r.PostForm.Get("csrf"); want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		c.showReset(w, r, http.StatusForbidden, resetData{Error: "The form expired. Open the reset link again."})
		return
	}
	// A refusal keeps the form's token: Reload posts the same form again and gets the same
	// answer, where a new token would call the form expired. Nothing was redeemed.
	next := r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		c.showReset(w, r, http.StatusBadRequest, resetData{Token: want, Error: "The two passwords differ. Type the same one twice.", Field: "confirm_password"})
		return
	}
	ctx := r.Context()
	if _, err := c.svc.ResetPassword(ctx, r.PostForm.Get("code"), next); err != nil {
		if tokend.ErrorCode(err) == tokend.ERateLimited {
			edge.Fail(w, r, err)
			c.showReset(w, r, http.StatusTooManyRequests, resetData{Token: want, Error: "Too many failed attempts. Wait " + waitText(err) + " and try again."})
			return
		}
		var de *tokend.Error
		if !errors.As(err, &de) || de.Code != tokend.EInvalid {
			c.renderError(w, r, nil, err)
			return
		}
		c.showReset(w, r, http.StatusBadRequest, resetData{Token: want, Error: de.Message, Field: de.Field})
		return
	}
	// A browser still signed in here (as anyone) signs in again with the new password.
	if old := c.cookie(r, sessionCookie); old != "" {
		if err := c.svc.SignOut(ctx, old); err != nil {
			c.log.Warn("end the previous console session", "err", err)
		}
	}
	http.Redirect(w, r, "/signin?done=password_reset", http.StatusSeeOther)
}
