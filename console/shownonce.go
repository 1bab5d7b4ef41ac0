package console

import (
	"encoding/json"
	"net/http"
	"net/url"

	"tokend"
)

// shownOncePath is the page that shows a new secret, once. The POST that makes a token hands
// the secret to it through a one-time message of the session (post, redirect, get): reloading
// or going Back never posts again, so never mints a second token, and the secret is gone
// after its first showing.
const shownOncePath = "/settings/shown-once"

// shownOnce is what travels from the POST to the page, sealed in the session's message: a
// token's secret, or a password reset link.
type shownOnce struct {
	Section string         `json:"section"`
	Secret  secretData     `json:"secret"`
	Reset   *resetLinkData `json:"reset,omitempty"`
}

// showSecretOnce stores d for one showing and redirects to the page that shows it.
func (c *Console) showSecretOnce(w http.ResponseWriter, r *http.Request, in *signedIn, section string, d secretData) {
	c.showOnce(w, r, in, shownOnce{Section: section, Secret: d})
}

// showOnce stores m for one showing and redirects to the page that shows it.
func (c *Console) showOnce(w http.ResponseWriter, r *http.Request, in *signedIn, m shownOnce) {
	section := m.Section
	b, err := json.Marshal(m)
	if err == nil {
		var handle string
		handle, err = c.svc.PutFlash(r.Context(), c.cookie(r, sessionCookie), in.sess, b)
		if err == nil {
			q := url.Values{"m": {handle}, "s": {section}}
			http.Redirect(w, r, shownOncePath+"?"+q.Encode(), http.StatusSeeOther)
			return
		}
	}
	c.renderError(w, r, in, err)
}

// secretOnce shows the secret its one-time message holds; on a reload, or from another session,
// it says in plain words that the secret was shown once.
func (c *Console) secretOnce(w http.ResponseWriter, r *http.Request, in *signedIn) {
	q := r.URL.Query()
	b, err := c.svc.TakeFlash(r.Context(), c.cookie(r, sessionCookie), in.sess, q.Get("m"))
	var m shownOnce
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		if tokend.ErrorCode(err) != tokend.ENotFound {
			c.renderError(w, r, in, err)
			return
		}
		section := q.Get("s")
		c.show(w, r, in, http.StatusOK, "secret.html", "Shown once", section, secretData{Gone: true, Back: sectionPath(section)})
		return
	}
	if m.Reset != nil {
		c.show(w, r, in, http.StatusOK, "reset_link.html", "Password reset link", m.Section, *m.Reset)
		return
	}
	title := "Copy your new token"
	switch {
	case m.Secret.Kind == "API key":
		title = "Copy your new API key"
	case m.Secret.Signing:
		title = "Copy the webhook's signing secret"
	}
	c.show(w, r, in, http.StatusOK, "secret.html", title, m.Section, m.Secret)
}
