package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Webhook is an endpoint that hears of the account's token events, signed as Standard
// Webhooks say. Secret is set only in the answers that create it or rotate its secret.
type Webhook struct {
	ID                      int64     `json:"id,omitempty"`
	AccountID               int64     `json:"account_id,omitempty"`
	URL                     string    `json:"url"`
	Description             string    `json:"description"`
	Events                  []string  `json:"events"`
	Active                  bool      `json:"active"`
	Secret                  string    `json:"secret,omitempty"`
	PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at,omitzero"`
	CreatedAt               time.Time `json:"created_at,omitzero"`
	UpdatedAt               time.Time `json:"updated_at,omitzero"`
}

// WebhookInput creates an endpoint; nil Events subscribes to every event, an empty Secret has
// one made.
type WebhookInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	Events      []string `json:"events,omitempty"`
	Active      *bool    `json:"active,omitempty"`
	Secret      string   `json:"secret,omitempty"`
}

// WebhookUpdate changes the fields that are set.
type WebhookUpdate struct {
	URL         *string  `json:"url,omitempty"`
	Description *string  `json:"description,omitempty"`
	Events      []string `json:"events,omitempty"`
	Active      *bool    `json:"active,omitempty"`
}

// Delivery is one event sent (or being sent) to an endpoint. MessageID is the webhook-id the
// receiver sees, the same on every attempt.
type Delivery struct {
	ID             int64           `json:"id"`
	MessageID      string          `json:"message_id"`
	WebhookID      int64           `json:"webhook_id"`
	Event          string          `json:"event"`
	State          string          `json:"state"`
	Attempts       int             `json:"attempts"`
	NextAttemptAt  time.Time       `json:"next_attempt_at,omitzero"`
	RetryUntil     time.Time       `json:"retry_until,omitzero"`
	LastStatusCode *int            `json:"last_status_code"`
	LastError      string          `json:"last_error"`
	CreatedAt      time.Time       `json:"created_at,omitzero"`
	UpdatedAt      time.Time       `json:"updated_at,omitzero"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	AttemptLog     []Attempt       `json:"attempt_log,omitempty"`
}

// Attempt is one try at a delivery.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error"`
}

func webhooksPath(accountID int64) string {
	return fmt.Sprintf("/api/tokend/v1/accounts/%d/webhooks/", accountID)
}

// ListWebhooks lists the account's endpoints.
func (c *Client) ListWebhooks(ctx context.Context, accountID int64, o ListOptions) ([]Webhook, Page, error) {
	var (
		ws    []Webhook
		extra listExtra
	)
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", itoa(int64(o.Limit)))
	}
	if o.Offset > 0 {
		q.Set("offset", itoa(int64(o.Offset)))
	}
	if err := c.do(ctx, "GET", webhooksPath(accountID), q, nil, &ws, &extra); err != nil {
		return nil, Page{}, err
	}
	return ws, extra.page(), nil
}

// Webhook returns one endpoint.
func (c *Client) Webhook(ctx context.Context, accountID, id int64) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, "GET", webhooksPath(accountID)+itoa(id)+"/", nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateWebhook adds an endpoint; the answer holds its secret, shown this once.
func (c *Client) CreateWebhook(ctx context.Context, accountID int64, in WebhookInput) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, "POST", webhooksPath(accountID), nil, in, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateWebhook changes an endpoint's URL, description, events or whether it is active.
func (c *Client) UpdateWebhook(ctx context.Context, accountID, id int64, u WebhookUpdate) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, "PUT", webhooksPath(accountID)+itoa(id)+"/", nil, u, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// RotateWebhookSecret gives an endpoint a new secret, returned this once; the old one signs
// beside it for a day.
func (c *Client) RotateWebhookSecret(ctx context.Context, accountID, id int64) (*Webhook, error) {
	var out Webhook
	if err := c.do(ctx, "POST", webhooksPath(accountID)+itoa(id)+"/rotate-secret/", nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteWebhook deletes an endpoint with its queued messages and delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, accountID, id int64) error {
	return c.do(ctx, "DELETE", webhooksPath(accountID)+itoa(id)+"/", nil, nil, nil, nil)
}

// DeliveryOptions select deliveries: a state (pending, delivered, failed; empty: any) and a page.
type DeliveryOptions struct {
	Limit, Offset int
	State         string
}

// ListDeliveries lists an endpoint's deliveries, newest first.
func (c *Client) ListDeliveries(ctx context.Context, accountID, webhookID int64, o DeliveryOptions) ([]Delivery, Page, error) {
	var (
		ds    []Delivery
		extra listExtra
	)
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", itoa(int64(o.Limit)))
	}
	if o.Offset > 0 {
		q.Set("offset", itoa(int64(o.Offset)))
	}
	if o.State != "" {
		q.Set("state", o.State)
	}
	if err := c.do(ctx, "GET", webhooksPath(accountID)+itoa(webhookID)+"/deliveries/", q, nil, &ds, &extra); err != nil {
		return nil, Page{}, err
	}
	return ds, extra.page(), nil
}

// Delivery returns one delivery with its payload and attempts.
func (c *Client) Delivery(ctx context.Context, accountID, webhookID, id int64) (*Delivery, error) {
	var out Delivery
	if err := c.do(ctx, "GET", fmt.Sprintf("%s%d/deliveries/%d/", webhooksPath(accountID), webhookID, id), nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// Redeliver sends a delivery again now, under the same message id.
func (c *Client) Redeliver(ctx context.Context, accountID, webhookID, id int64) (*Delivery, error) {
	var out Delivery
	if err := c.do(ctx, "POST", fmt.Sprintf("%s%d/deliveries/%d/redeliver/", webhooksPath(accountID), webhookID, id), nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}
