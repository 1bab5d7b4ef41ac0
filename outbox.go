package tokend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"time"
)

// WebhookMessage is one event on its way to one endpoint: a row of the outbox. It is written in
// the transaction of the change that caused the event (so that a committed change has its
// messages and a rolled-back one has none), and a worker sends it until it is taken or its
// retries run out. UID is the webhook-id header: the same for every attempt and redelivery,
// so that receivers can drop duplicates.
type WebhookMessage struct {
	ID         int64
	UID        string
	AccountID  AccountID
	EndpointID WebhookID
	Event      string
	Payload    []byte // the JSON body, fixed when the event happens
	State      WebhookState
	Attempts   int
	// NextAttemptAt is when the message is due (pending messages).
	NextAttemptAt time.Time
	// RetryUntil is when a pending message stops being retried and fails: a day after the
	// event, or after a redelivery by hand.
	RetryUntil time.Time
	// ClaimedUntil is how long a worker's claim holds: until then no other worker takes the
	// message; a worker that died with it lets it go at that time. Lease tells claims apart,
	// so that a worker whose claim lapsed cannot record over the next worker's.
	ClaimedUntil time.Time
	Lease        int64
	LastStatus   int    // the last attempt's HTTP status (0: no answer, or no attempt yet)
	LastError    string // the last attempt's error ("" when delivered, or no attempt yet)
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// WebhookLogRetention is how long delivered and failed messages stay in the delivery log.
const WebhookLogRetention = 30 * 24 * time.Hour

// WebhookState is where a message stands.
type WebhookState string

const (
	WebhookPending   WebhookState = "pending"
	WebhookDelivered WebhookState = "delivered"
	WebhookFailed    WebhookState = "failed" // its retries ran out; a redelivery by hand queues it again
)

// WebhookAttempt is one line of an endpoint's delivery log.
type WebhookAttempt struct {
	ID         int64
	MessageID  int64
	EndpointID WebhookID
	AccountID  AccountID
	Attempt    int // 1 for the first
	At         time.Time
	StatusCode int // 0: no answer
	Duration   time.Duration
	Error      string // why it was not delivered, in the endpoint owner's words; "" when it was
}

// WebhookMessageFilter selects an endpoint's messages, newest first.
type WebhookMessageFilter struct {
	AccountID  AccountID
	EndpointID WebhookID
	State      WebhookState // empty: any
	Page
}

// webhookEventOf maps an audit action to the webhook event it is ("" for none).
func webhookEventOf(action string) string {
	switch action {
	case ActionServiceTokenCreated, ActionPATCreated:
		return EventTokenCreated
	case ActionServiceTokenRevoked, ActionPATDeleted:
		return EventTokenRevoked
	case "token.revoke_leaked":
		return EventTokenLeaked
	case "token.reused":
		return EventTokenReused
	case "token.disabled":
		return EventTokenDisabled
	case "token.expiring":
		return EventTokenExpiring
	case "token.expired":
		return EventTokenExpired
	case "token.new_ip":
		return EventTokenNewIP
	}
	return ""
}

// webhookPayload is a message's body: Standard Webhooks' type, timestamp and data.
type webhookPayload struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      webhookData `json:"data"`
}

type webhookData struct {
	AccountID AccountID     `json:"account_id"`
	Token     webhookToken  `json:"token"`
	Actor     *webhookActor `json:"actor,omitempty"`
	// IP and UserAgent are the origin of the request that caused the event, when one did.
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	// Detail is the audit event's detail: reason, expires_at, days, new address, …
	Detail map[string]string `json:"detail,omitempty"`
	// AuditEventID names the audit log's record of the event.
	AuditEventID int64 `json:"audit_event_id,omitempty"`
}

type webhookToken struct {
	ID   TokenID `json:"id"`
	UID  string  `json:"uid,omitempty"`
	Kind string  `json:"kind"`
	Name string  `json:"name,omitempty"`
}

type webhookActor struct {
	UserID   UserID `json:"user_id,omitempty"`
	TokenUID string `json:"token_uid,omitempty"`
}

// newWebhookPayload builds the body of event for the audit event e.
func newWebhookPayload(event string, e *AuditEvent) ([]byte, error) {
	d := webhookData{AccountID: e.AccountID, IP: e.IP, UserAgent: e.UserAgent, AuditEventID: e.ID,
		Token: webhookToken{ID: TokenID(e.TargetID), Kind: e.TargetType, UID: e.Detail["uid"], Name: e.Detail["name"]}}
	if e.ActorUserID != 0 || e.ActorToken != "" {
		d.Actor = &webhookActor{UserID: e.ActorUserID, TokenUID: e.ActorToken}
	}
	if len(e.Detail) > 0 {
		d.Detail = maps.Clone(e.Detail)
		delete(d.Detail, "uid")
		delete(d.Detail, "name")
		if len(d.Detail) == 0 {
			d.Detail = nil
		}
	}
	return json.Marshal(webhookPayload{Type: event, Timestamp: e.CreatedAt.UTC().Format(time.RFC3339Nano), Data: d})
}

// enqueueWebhooks writes, in st's transaction, one message for each event of events that is a
// webhook event and each endpoint of its account subscribed to it, and returns how many.
func (s *Service) enqueueWebhooks(ctx context.Context, st Store, events []*AuditEvent) (int, error) {
	var msgs []*WebhookMessage
	endpoints := map[AccountID][]*WebhookEndpoint{}
	for _, e := range events {
		ev := webhookEventOf(e.Action)
		if ev == "" || e.AccountID == 0 {
			continue
		}
		ws, ok := endpoints[e.AccountID]
		if !ok {
			var err error
			if ws, err = st.ListWebhookEndpoints(ctx, e.AccountID); err != nil {
				return 0, err
			}
			endpoints[e.AccountID] = ws
		}
		var body []byte
		for _, w := range ws {
			if !w.subscribed(ev) {
				continue
			}
			if body == nil {
				var err error
				if body, err = newWebhookPayload(ev, e); err != nil {
					return 0, err
				}
			}
			uid, err := newMessageUID(s.rand)
			if err != nil {
				return 0, err
			}
			msgs = append(msgs, &WebhookMessage{UID: uid, AccountID: e.AccountID, EndpointID: w.ID, Event: ev,
				Payload: body, State: WebhookPending, NextAttemptAt: e.CreatedAt, RetryUntil: e.CreatedAt.Add(s.opts.WebhookRetryFor),
				CreatedAt: e.CreatedAt, UpdatedAt: e.CreatedAt})
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	return len(msgs), st.CreateWebhookMessages(ctx, msgs)
}

// newMessageUID returns a message id: "msg_" and 22 characters of base64url (128 random bits),
// no dot (the signed content separates fields with dots).
func newMessageUID(random io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", err
	}
	return "msg_" + base64.RawURLEncoding.EncodeToString(b), nil
}
