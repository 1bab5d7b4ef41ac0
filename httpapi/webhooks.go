package httpapi

import (
	"encoding/json"
	"net/http"

	"tokend"
)

// webhookJSON is a webhook endpoint. secret appears once: in the answer that creates the
// endpoint or rotates its secret.
type webhookJSON struct {
	ID          int64    `json:"id"`
	AccountID   int64    `json:"account_id"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	Active      bool     `json:"active"`
	Secret      *string  `json:"secret,omitempty"`
	// PreviousSecretExpiresAt is when the secret a rotation replaced stops signing (null: none).
	PreviousSecretExpiresAt *string `json:"previous_secret_expires_at"`
	CreatedBy               *int64  `json:"created_by"`
	CreatedAt               *string `json:"created_at"`
	UpdatedAt               *string `json:"updated_at"`
}

func toWebhookJSON(w *tokend.WebhookEndpoint, withSecret bool) webhookJSON {
	out := webhookJSON{ID: int64(w.ID), AccountID: int64(w.AccountID), URL: w.URL, Description: w.Description, Events: nonNil(w.Events),
		Active: !w.Disabled, CreatedAt: jsonTime(w.CreatedAt), UpdatedAt: jsonTime(w.UpdatedAt)}
	if w.PreviousSecret != "" {
		out.PreviousSecretExpiresAt = jsonTime(w.PreviousUntil)
	}
	if w.CreatedBy != 0 {
		id := int64(w.CreatedBy)
		out.CreatedBy = &id
	}
	if withSecret {
		s := w.Secret
		out.Secret = &s
	}
	return out
}

type webhookRequest struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	Events      []string `json:"events"`
	Active      *bool    `json:"active"`
	Secret      *string  `json:"secret"`
}

// deliveryJSON is one message to an endpoint: an event, its state and its last attempt.
// message_id is the webhook-id header the receiver sees, the same on every attempt.
type deliveryJSON struct {
	ID             int64           `json:"id"`
	MessageID      string          `json:"message_id"`
	WebhookID      int64           `json:"webhook_id"`
	Event          string          `json:"event"`
	State          string          `json:"state"`
	Attempts       int             `json:"attempts"`
	NextAttemptAt  *string         `json:"next_attempt_at"`
	RetryUntil     *string         `json:"retry_until"`
	LastStatusCode *int            `json:"last_status_code"`
	LastError      string          `json:"last_error"`
	CreatedAt      *string         `json:"created_at"`
	UpdatedAt      *string         `json:"updated_at"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	AttemptLog     []attemptJSON   `json:"attempt_log,omitempty"`
}

type attemptJSON struct {
	Attempt    int     `json:"attempt"`
	At         *string `json:"at"`
	StatusCode *int    `json:"status_code"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error"`
}

func toDeliveryJSON(m *tokend.WebhookMessage) deliveryJSON {
	out := deliveryJSON{ID: m.ID, MessageID: m.UID, WebhookID: int64(m.EndpointID), Event: m.Event, State: string(m.State),
		Attempts: m.Attempts, LastError: m.LastError, CreatedAt: jsonTime(m.CreatedAt), UpdatedAt: jsonTime(m.UpdatedAt)}
	if m.State == tokend.WebhookPending {
		out.NextAttemptAt, out.RetryUntil = jsonTime(m.NextAttemptAt), jsonTime(m.RetryUntil)
	}
	if m.LastStatus != 0 {
		code := m.LastStatus
		out.LastStatusCode = &code
	}
	return out
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	lq, err := readList(r)
	if err != nil {
		return err
	}
	ws, err := s.svc.ListWebhooks(r.Context(), p, accountID)
	if err != nil {
		return err
	}
	total := len(ws)
	page := lq.page.Normalize()
	ws = ws[min(page.Offset, len(ws)):min(page.Offset+page.Limit, len(ws))]
	out := make([]webhookJSON, len(ws))
	for i, h := range ws {
		out[i] = toWebhookJSON(h, false)
	}
	writeList(w, out, len(out), total, lq.filters, "id")
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req webhookRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.URL == nil {
		return tokend.Invalidf("url", "Field \"url\" is required.")
	}
	in := tokend.WebhookInput{URL: *req.URL, Events: req.Events}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.Secret != nil {
		in.Secret = *req.Secret
	}
	if req.Active != nil {
		in.Disabled = !*req.Active
	}
	h, err := s.svc.CreateWebhook(r.Context(), p, accountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toWebhookJSON(h, true), nil)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	h, err := s.svc.Webhook(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toWebhookJSON(h, false))
	return nil
}

// updateWebhook answers PUT and POST on an endpoint: the fields sent change, the others stay.
// The secret changes only through rotate-secret.
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	var req webhookRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Secret != nil {
		return tokend.Invalidf("secret", "The secret cannot be set; rotate it with POST …/webhooks/%d/rotate-secret/.", id)
	}
	u := tokend.WebhookUpdate{URL: req.URL, Description: req.Description, Events: req.Events}
	if req.Active != nil {
		disabled := !*req.Active
		u.Disabled = &disabled
	}
	h, err := s.svc.UpdateWebhook(r.Context(), p, accountID, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toWebhookJSON(h, false))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteWebhook(r.Context(), p, accountID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	h, err := s.svc.RotateWebhookSecret(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toWebhookJSON(h, true))
	return nil
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	lq, err := readList(r, "state")
	if err != nil {
		return err
	}
	state := tokend.WebhookState(lq.str("state"))
	switch state {
	case "", tokend.WebhookPending, tokend.WebhookDelivered, tokend.WebhookFailed:
	default:
		return tokend.Invalidf("state", "state must be pending, delivered or failed.")
	}
	ms, total, err := s.svc.WebhookDeliveries(r.Context(), p, accountID, id, state, lq.page)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(ms))
	for i, m := range ms {
		out[i] = toDeliveryJSON(m)
	}
	writeList(w, out, len(out), total, lq.filters, "-id")
	return nil
}

func (s *Server) getWebhookDelivery(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	did, err := pathID[int64](r, "delivery_id")
	if err != nil {
		return err
	}
	m, attempts, err := s.svc.WebhookDelivery(r.Context(), p, accountID, id, did)
	if err != nil {
		return err
	}
	out := toDeliveryJSON(m)
	out.Payload = json.RawMessage(m.Payload)
	out.AttemptLog = make([]attemptJSON, len(attempts))
	for i, a := range attempts {
		out.AttemptLog[i] = attemptJSON{Attempt: a.Attempt, At: jsonTime(a.At), DurationMS: float64(a.Duration.Microseconds()) / 1000,
			Error: a.Error}
		if a.StatusCode != 0 {
			code := a.StatusCode
			out.AttemptLog[i].StatusCode = &code
		}
	}
	writeOK(w, out)
	return nil
}

func (s *Server) redeliverWebhook(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.WebhookID](r, "id")
	if err != nil {
		return err
	}
	did, err := pathID[int64](r, "delivery_id")
	if err != nil {
		return err
	}
	m, err := s.svc.Redeliver(r.Context(), p, accountID, id, did)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toDeliveryJSON(m), nil)
	return nil
}
