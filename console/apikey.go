package console

import (
	"net/http"

	"tokend"
	"tokend/perm"
)

// Personal settings → API key: the user's legacy key, retired, with where it is still used.

type apiKeyData struct {
	Key       *tokend.Token // nil when the user has none
	Activity  []tokend.DailyUse
	WindowEnd string // the current account's migration window, when open
	// Uses are the places the key was used in the current account; CanReadUsage is false when
	// the user may not read the usage report.
	Uses         []tokend.LegacyPlace
	Suggestion   tokend.Suggestion
	CanReadUsage bool
}

func (c *Console) apiKey(w http.ResponseWriter, r *http.Request, in *signedIn) {
	ctx := r.Context()
	var d apiKeyData
	key, err := c.svc.LegacyKey(ctx, in.p, in.user.ID)
	switch {
	case err == nil:
		d.Key = key
		if d.Activity, err = c.activity(ctx, in.p, key.ID, activityDays); err != nil {
			c.log.Warn("token activity", "token_id", key.ID, "err", err)
		}
	case tokend.ErrorCode(err) != tokend.ENotFound:
		c.renderError(w, r, in, err)
		return
	}
	if in.account.LegacyWindowOpen(c.now()) {
		d.WindowEnd = formatDateTime(in.account.LegacyKeysUntil)
	}
	if in.p.Can(perm.AuditLog, perm.Read, 0) {
		d.CanReadUsage = true
		rep, err := c.svc.LegacyUsage(ctx, in.p, in.account.ID, c.opts.RouteNeeds, tokend.LegacyReportFilter{UserID: in.user.ID})
		if err != nil {
			c.renderError(w, r, in, err)
			return
		}
		for _, u := range rep.Users {
			if u.UserID == in.user.ID {
				d.Uses, d.Suggestion = u.Uses, u.Suggestion
			}
		}
	}
	c.show(w, r, in, http.StatusOK, "apikey.html", "API key", "apikey", d)
}

func (c *Console) confirmRotateAPIKey(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.show(w, r, in, http.StatusOK, "apikey_rotate.html", "Rotate API key", "apikey", nil)
}

func (c *Console) rotateAPIKey(w http.ResponseWriter, r *http.Request, in *signedIn) {
	t, raw, err := c.svc.RotateLegacyKey(r.Context(), in.p, in.user.ID)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.showSecretOnce(w, r, in, "apikey", secretData{
		Kind: "API key", Name: t.Name, UID: t.UID, Secret: raw, Back: "/profile/api-key", Rotated: true,
		Note: "The old key stopped working. The new key is retired like the old one: it works only in " +
			"accounts with an open migration window. Move to a personal access token."})
}
