package tokend

import (
	"context"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"tokend/perm"
	"tokend/webhook"
)

// A webhook endpoint is where an account wants to hear about its tokens: a URL, the events it
// subscribes to, and the secret that signs what is sent (Standard Webhooks). Messages reach it
// through an outbox in the database (outbox.go), written in the transaction of the event and
// sent by a worker on any node (delivery.go).
type WebhookEndpoint struct {
	ID          WebhookID
	AccountID   AccountID
	URL         string
	Description string
	// Events are the event types sent to it (WebhookEvents), in that order.
	Events []string
	// Secret signs every message ("whsec_…"). It is kept, not hashed: signing needs it.
	Secret string
	// PreviousSecret is the secret a rotation replaced; messages are signed with it too until
	// PreviousUntil, so that a receiver can switch to the new one without dropping any.
	PreviousSecret string
	PreviousUntil  time.Time
	// Disabled stops new messages to the endpoint (those already queued are still sent).
	Disabled  bool
	CreatedBy UserID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// The webhook event types.
const (
	EventTokenCreated  = "token.created"
	EventTokenRevoked  = "token.revoked"
	EventTokenLeaked   = "token.leaked"
	EventTokenReused   = "token.reused"
	EventTokenDisabled = "token.disabled"
	EventTokenExpiring = "token.expiring"
	EventTokenExpired  = "token.expired"
	EventTokenNewIP    = "token.new_ip"
)

// WebhookEvents lists every event type an endpoint may subscribe to.
var WebhookEvents = []string{EventTokenCreated, EventTokenRevoked, EventTokenLeaked, EventTokenReused,
	EventTokenDisabled, EventTokenExpiring, EventTokenExpired, EventTokenNewIP}

// Webhook limits.
const (
	MaxWebhookEndpoints   = 20
	maxWebhookURL         = 2048
	maxWebhookDescription = 200
	// WebhookSecretOverlap is how long a rotated-out secret keeps signing.
	WebhookSecretOverlap = 24 * time.Hour
)

// WebhookInput is a new endpoint. Events nil subscribes to every event; Secret empty has one
// made.
type WebhookInput struct {
	URL         string
	Description string
	Events      []string
	Secret      string
	Disabled    bool
}

// WebhookUpdate carries what an update changes; nil leaves a field alone.
type WebhookUpdate struct {
	URL         *string
	Description *string
	Events      []string // nil: unchanged
	Disabled    *bool
}

// authorizeWebhooks checks access to an account's webhooks. The events tell about the
// account's tokens (names, owners, addresses), so reading or writing endpoints also needs read
// access to service tokens, which shows the same.
func authorizeWebhooks(p *Principal, accountID AccountID, a perm.Access) error {
	if err := authorize(p, accountID, perm.Webhooks, a, 0); err != nil {
		return err
	}
	return authorize(p, accountID, perm.ServiceTokens, perm.Read, 0)
}

// CanWriteWebhooks reports whether p may change accountID's webhooks: the rule of every
// write below, for adapters that show or hide controls.
func CanWriteWebhooks(p *Principal, accountID AccountID) bool {
	return authorizeWebhooks(p, accountID, perm.Write) == nil
}

// ListWebhooks lists the account's endpoints, by id.
func (s *Service) ListWebhooks(ctx context.Context, p *Principal, accountID AccountID) ([]*WebhookEndpoint, error) {
	if err := authorizeWebhooks(p, accountID, perm.Read); err != nil {
		return nil, err
	}
	return s.store.ListWebhookEndpoints(ctx, accountID)
}

// Webhook returns one endpoint of the account.
func (s *Service) Webhook(ctx context.Context, p *Principal, accountID AccountID, id WebhookID) (*WebhookEndpoint, error) {
	if err := authorizeWebhooks(p, accountID, perm.Read); err != nil {
		return nil, err
	}
	return s.store.WebhookEndpoint(ctx, accountID, id)
}

// CreateWebhook adds an endpoint. The returned endpoint holds its secret: the only time it is
// shown.
func (s *Service) CreateWebhook(ctx context.Context, p *Principal, accountID AccountID, in WebhookInput) (*WebhookEndpoint, error) {
	if err := authorizeWebhooks(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	w := &WebhookEndpoint{AccountID: accountID, URL: strings.TrimSpace(in.URL), Description: strings.TrimSpace(in.Description),
		Secret: in.Secret, Disabled: in.Disabled, CreatedBy: p.UserID}
	if err := s.checkWebhookURL(w.URL); err != nil {
		return nil, err
	}
	if len(w.Description) > maxWebhookDescription {
		return nil, Invalidf("description", "The description is longer than %d characters.", maxWebhookDescription)
	}
	var err error
	if w.Events, err = webhookEvents(in.Events); err != nil {
		return nil, err
	}
	if w.Secret == "" {
		if w.Secret, err = webhook.NewSecret(s.rand); err != nil {
			return nil, err
		}
	} else if _, err := webhook.ParseSecret(w.Secret); err != nil {
		return nil, Invalidf("secret", "The secret must be \"whsec_\" followed by the base64 of 24 to 64 random bytes; leave it out to have one made.")
	}
	err = s.change(ctx, func(st *txn) error {
		have, err := st.ListWebhookEndpoints(ctx, accountID)
		if err != nil {
			return err
		}
		if len(have) >= MaxWebhookEndpoints {
			return Invalidf("url", "An account has at most %d webhook endpoints; delete one first.", MaxWebhookEndpoints)
		}
		now := s.now()
		w.CreatedAt, w.UpdatedAt = now, now
		if err := st.CreateWebhookEndpoint(ctx, w); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "webhook.create", "webhook", w.ID)
		e.Detail = webhookDetail(w)
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// UpdateWebhook changes an endpoint's URL, description, events or whether it is disabled.
func (s *Service) UpdateWebhook(ctx context.Context, p *Principal, accountID AccountID, id WebhookID, u WebhookUpdate) (*WebhookEndpoint, error) {
	if err := authorizeWebhooks(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	var w *WebhookEndpoint
	err := s.change(ctx, func(st *txn) error {
		var err error
		if w, err = st.WebhookEndpoint(ctx, accountID, id); err != nil {
			return err
		}
		if u.URL != nil {
			w.URL = strings.TrimSpace(*u.URL)
			if err := s.checkWebhookURL(w.URL); err != nil {
				return err
			}
		}
		if u.Description != nil {
			w.Description = strings.TrimSpace(*u.Description)
			if len(w.Description) > maxWebhookDescription {
				return Invalidf("description", "The description is longer than %d characters.", maxWebhookDescription)
			}
		}
		if u.Events != nil {
			if w.Events, err = webhookEvents(u.Events); err != nil {
				return err
			}
		}
		if u.Disabled != nil {
			w.Disabled = *u.Disabled
		}
		w.UpdatedAt = s.now()
		if err := st.UpdateWebhookEndpoint(ctx, w); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "webhook.update", "webhook", w.ID)
		e.Detail = webhookDetail(w)
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// RotateWebhookSecret gives an endpoint a new secret, returned once; the old one keeps
// signing beside it for WebhookSecretOverlap.
func (s *Service) RotateWebhookSecret(ctx context.Context, p *Principal, accountID AccountID, id WebhookID) (*WebhookEndpoint, error) {
	if err := authorizeWebhooks(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	secret, err := webhook.NewSecret(s.rand)
	if err != nil {
		return nil, err
	}
	var w *WebhookEndpoint
	err = s.change(ctx, func(st *txn) error {
		var err error
		if w, err = st.WebhookEndpoint(ctx, accountID, id); err != nil {
			return err
		}
		now := s.now()
		w.PreviousSecret, w.PreviousUntil, w.Secret, w.UpdatedAt = w.Secret, now.Add(WebhookSecretOverlap), secret, now
		if err := st.UpdateWebhookEndpoint(ctx, w); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "webhook.rotate_secret", "webhook", w.ID)
		e.Detail = map[string]string{"url": redactURL(w.URL), "previous_until": w.PreviousUntil.UTC().Format(time.RFC3339)}
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook deletes an endpoint with its queued messages and delivery log, and its secret
// with them.
func (s *Service) DeleteWebhook(ctx context.Context, p *Principal, accountID AccountID, id WebhookID) error {
	if err := authorizeWebhooks(p, accountID, perm.Write); err != nil {
		return err
	}
	return s.change(ctx, func(st *txn) error {
		w, err := st.WebhookEndpoint(ctx, accountID, id)
		if err != nil {
			return err
		}
		if err := st.DeleteWebhookEndpoint(ctx, accountID, id); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "webhook.delete", "webhook", w.ID)
		e.Detail = webhookDetail(w)
		st.audit(e)
		return nil
	})
}

// webhookEvents validates a subscription: known event types, each once, in WebhookEvents'
// order; nil means all of them.
func webhookEvents(in []string) ([]string, error) {
	if in == nil {
		return slices.Clone(WebhookEvents), nil
	}
	if len(in) == 0 {
		return nil, Invalidf("events", "Subscribe to at least one event: %s.", strings.Join(WebhookEvents, ", "))
	}
	want := map[string]bool{}
	for _, e := range in {
		if !slices.Contains(WebhookEvents, e) {
			return nil, Invalidf("events", "Unknown event %q; the events are %s.", e, strings.Join(WebhookEvents, ", "))
		}
		want[e] = true
	}
	var out []string
	for _, e := range WebhookEvents {
		if want[e] {
			out = append(out, e)
		}
	}
	return out, nil
}

// checkWebhookURL refuses what the worker could not or should not send to: anything but an
// absolute https URL (http too when private addresses are allowed, for tests and private
// networks), credentials in the URL, and an address literal that is not public. Host names are
// checked again at every connection, after they resolve.
func (s *Service) checkWebhookURL(raw string) error {
	if raw == "" {
		return Invalidf("url", "Field \"url\" is required.")
	}
	if len(raw) > maxWebhookURL {
		return Invalidf("url", "The URL is longer than %d characters.", maxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Invalidf("url", "The URL must be absolute, e.g. https://hooks.example.com/tokend.")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.opts.WebhookAllowPrivate:
	default:
		return Invalidf("url", "The URL must start with https://.")
	}
	if u.User != nil {
		return Invalidf("url", "The URL must not carry a user name or password: receivers verify the signature instead.")
	}
	if u.Fragment != "" {
		return Invalidf("url", "The URL must not have a fragment (#…).")
	}
	if s.opts.WebhookAllowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return Invalidf("url", "Webhooks are not sent to localhost unless the server runs with --webhook-allow-private.")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := webhook.NonPublic(ip); why != "" {
			return Invalidf("url", "%s is a %s address: webhooks go to public addresses only, unless the server runs with --webhook-allow-private.", ip, why)
		}
	}
	return nil
}

// redactURL is an endpoint's URL for the audit log: without its query, which may carry a
// credential of the receiver's.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

func webhookDetail(w *WebhookEndpoint) map[string]string {
	d := map[string]string{"url": redactURL(w.URL), "events": strings.Join(w.Events, ",")}
	if w.Disabled {
		d["disabled"] = "true"
	}
	return d
}

// secrets are the secrets that sign a message sent at now: the current one, and the previous
// one while its overlap lasts.
func (w *WebhookEndpoint) secrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousUntil) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// subscribed reports whether the endpoint takes new messages of event.
func (w *WebhookEndpoint) subscribed(event string) bool {
	return !w.Disabled && slices.Contains(w.Events, event)
}
