package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tokend"
	"tokend/edge"
)

// Webhooks: endpoints that hear of the account's token events, signed, with their delivery
// log. A new endpoint's secret (and a rotated one) is shown once, through the session's
// one-time message, like a new token's.

type webhooksData struct {
	Hooks    []*tokend.WebhookEndpoint
	CanWrite bool
}

func (c *Console) listWebhooks(w http.ResponseWriter, r *http.Request, in *signedIn) {
	hs, err := c.svc.ListWebhooks(r.Context(), in.p, in.account.ID)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "webhooks.html", "Webhooks", "webhooks", webhooksData{Hooks: hs, CanWrite: tokend.CanWriteWebhooks(in.p, in.account.ID)})
}

// webhookForm is the new-endpoint form.
type webhookForm struct {
	URL         string
	Description string
	Events      []string // chosen
	All         []string // every event, in order
	Error       string
}

// eventHelp says what each event is, for the form.
var eventHelp = map[string]string{
	tokend.EventTokenCreated:  "a token was created",
	tokend.EventTokenRevoked:  "a token was deleted or revoked",
	tokend.EventTokenLeaked:   "a token was reported leaked and revoked",
	tokend.EventTokenReused:   "a rotated-out token was used after its overlap",
	tokend.EventTokenDisabled: "a token was disabled for inactivity",
	tokend.EventTokenExpiring: "a token expires in 30, 7 or 1 days",
	tokend.EventTokenExpired:  "a token expired",
	tokend.EventTokenNewIP:    "a token was used from an address never seen for it",
}

func (c *Console) newWebhookForm(w http.ResponseWriter, r *http.Request, in *signedIn) {
	c.showWebhookForm(w, r, in, http.StatusOK, webhookForm{Events: slices.Clone(tokend.WebhookEvents)})
}

func (c *Console) showWebhookForm(w http.ResponseWriter, r *http.Request, in *signedIn, status int, d webhookForm) {
	d.All = tokend.WebhookEvents
	c.show(w, r, in, status, "webhook_new.html", "New webhook", "webhooks", d)
}

func (c *Console) createWebhook(w http.ResponseWriter, r *http.Request, in *signedIn) {
	d := webhookForm{URL: strings.TrimSpace(r.PostForm.Get("url")), Description: r.PostForm.Get("description"),
		Events: r.PostForm["events"]}
	if d.Events == nil {
		d.Events = []string{} // none ticked: refused, not taken for "all"
	}
	h, err := c.svc.CreateWebhook(r.Context(), in.p, in.account.ID, tokend.WebhookInput{URL: d.URL, Description: d.Description,
		Events: d.Events})
	if err == nil {
		c.showSecretOnce(w, r, in, "webhooks", secretData{Kind: "signing secret", Name: h.URL, Secret: h.Secret, Signing: true,
			Back: "/settings/webhooks/" + strconv.FormatInt(int64(h.ID), 10)})
		return
	}
	switch tokend.ErrorCode(err) {
	case tokend.EInvalid, tokend.EForbidden:
		d.Error = tokend.ErrorMessage(err)
		c.showWebhookForm(w, r, in, edge.StatusOf(err), d)
	default:
		c.renderError(w, r, in, err)
	}
}

type webhookPage struct {
	Hook       *tokend.WebhookEndpoint
	Deliveries []*tokend.WebhookMessage
	Pager      pager
	CanWrite   bool
}

func (c *Console) showWebhook(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	h, err := c.svc.Webhook(r.Context(), in.p, in.account.ID, id)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	pg := pageOf(r)
	ms, total, err := c.svc.WebhookDeliveries(r.Context(), in.p, in.account.ID, id, "", pg)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "webhook.html", h.URL, "webhooks", webhookPage{Hook: h, Deliveries: ms,
		Pager: newPager(r, pg, len(ms), total), CanWrite: tokend.CanWriteWebhooks(in.p, in.account.ID)})
}

type deliveryPage struct {
	Hook     *tokend.WebhookEndpoint
	Delivery *tokend.WebhookMessage
	Attempts []*tokend.WebhookAttempt
	Payload  string
	CanWrite bool
}

func (c *Console) showDelivery(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	did, err := pathIDNamed[int64](r, "delivery")
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	h, err := c.svc.Webhook(r.Context(), in.p, in.account.ID, id)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	m, attempts, err := c.svc.WebhookDelivery(r.Context(), in.p, in.account.ID, id, did)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "webhook_delivery.html", "Delivery "+m.UID, "webhooks", deliveryPage{Hook: h, Delivery: m,
		Attempts: attempts, Payload: string(m.Payload), CanWrite: tokend.CanWriteWebhooks(in.p, in.account.ID)})
}

func (c *Console) redeliverWebhook(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	did, err := pathIDNamed[int64](r, "delivery")
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	if _, err := c.svc.Redeliver(r.Context(), in.p, in.account.ID, id, did); err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/webhooks/"+strconv.FormatInt(int64(id), 10)+"?done=webhook_redelivered", http.StatusSeeOther)
}

func (c *Console) setWebhookActive(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	disabled := r.PostForm.Get("active") != "true"
	if _, err := c.svc.UpdateWebhook(r.Context(), in.p, in.account.ID, id, tokend.WebhookUpdate{Disabled: &disabled}); err != nil {
		c.renderError(w, r, in, err)
		return
	}
	done := "webhook_resumed"
	if disabled {
		done = "webhook_paused"
	}
	http.Redirect(w, r, "/settings/webhooks/"+strconv.FormatInt(int64(id), 10)+"?done="+done, http.StatusSeeOther)
}

func (c *Console) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	h, err := c.svc.RotateWebhookSecret(r.Context(), in.p, in.account.ID, id)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.showSecretOnce(w, r, in, "webhooks", secretData{Kind: "signing secret", Name: h.URL, Secret: h.Secret, Signing: true,
		Rotated: true, Expires: h.PreviousUntil, Back: "/settings/webhooks/" + strconv.FormatInt(int64(h.ID), 10)})
}

func (c *Console) confirmDeleteWebhook(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	h, err := c.svc.Webhook(r.Context(), in.p, in.account.ID, id)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.show(w, r, in, http.StatusOK, "webhook_delete.html", "Delete webhook", "webhooks", webhookPage{Hook: h})
}

func (c *Console) deleteWebhook(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := pathID[tokend.WebhookID](r)
	if err == nil {
		err = c.svc.DeleteWebhook(r.Context(), in.p, in.account.ID, id)
	}
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	http.Redirect(w, r, "/settings/webhooks?done=webhook_deleted", http.StatusSeeOther)
}
