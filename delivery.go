package tokend

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"time"

	"tokend/perm"
	"tokend/webhook"
)

// The delivery worker sends the outbox's messages (outbox.go). Any node may send any message:
// a worker claims due messages for a lease (long enough for one attempt), so that two nodes
// never send the same message at once, and a node that dies mid-delivery lets its claims go
// when the lease ends; the message is then sent again, under the same webhook-id. Delivery is
// at least once: a receiver drops the ids it has seen.

// deliveries is the worker's state on this node.
type deliveries struct {
	client *webhook.Client
	wake   chan struct{}
}

func newDeliveries(opts Options) *deliveries {
	return &deliveries{
		client: webhook.NewClient(webhook.Options{AllowPrivate: opts.WebhookAllowPrivate, Timeout: opts.WebhookTimeout}),
		wake:   make(chan struct{}, 1),
	}
}

// wakeDeliveries tells this node's worker that messages may be due (a change queued some).
func (s *Service) wakeDeliveries() {
	select {
	case s.deliveries.wake <- struct{}{}:
	default:
	}
}

// leaseFor is how long a claim holds: twice an attempt's bound and a margin, so that a live
// worker always records its attempt before another may take the message.
func (s *Service) lease() time.Duration { return 2*s.deliveries.client.Timeout() + 5*time.Second }

// DeliverWebhooks sends, once each, the messages due now (up to WebhookConcurrency at once)
// and returns how many it tried. Run does this continuously; tests call it with their clock.
func (s *Service) DeliverWebhooks(ctx context.Context) (int, error) {
	msgs, err := s.claimDeliveries(ctx, s.opts.WebhookConcurrency)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, m := range msgs {
		wg.Go(func() { s.deliver(ctx, m) })
	}
	wg.Wait()
	return len(msgs), nil
}

func (s *Service) claimDeliveries(ctx context.Context, limit int) ([]*WebhookMessage, error) {
	lease, err := randomInt63(s.rand)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return s.store.ClaimWebhookMessages(ctx, now, now.Add(s.lease()), lease, limit)
}

// runDeliveries sends due messages until ctx ends, at most WebhookConcurrency at once: it
// claims as many as it has free slots when woken (a change queued messages, an attempt ended)
// or every WebhookPollInterval. Attempts in flight when ctx ends are finished (each is bounded
// by the client's timeout) and recorded.
func (s *Service) runDeliveries(ctx context.Context) {
	n := s.opts.WebhookConcurrency
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.opts.WebhookPollInterval)
	defer tick.Stop()
	for {
		if free := n - len(slots); free > 0 {
			msgs, err := s.claimDeliveries(ctx, free)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("claim webhook messages", "err", err)
			}
			for _, m := range msgs {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots; s.wakeDeliveries() }()
					s.deliver(context.WithoutCancel(ctx), m)
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.deliveries.wake:
		case <-tick.C:
		}
	}
}

// deliver makes one attempt at m, which this node has claimed, and records it: delivered,
// due again after a backoff, or failed when its retries have run out.
func (s *Service) deliver(ctx context.Context, m *WebhookMessage) {
	w, err := s.store.WebhookEndpoint(ctx, m.AccountID, m.EndpointID)
	if err != nil {
		// Deleted since (its messages went with it), or the store is down: the claim lapses.
		if !isNotFound(err) {
			s.log.Warn("read webhook endpoint", "endpoint", m.EndpointID, "err", err)
		}
		return
	}
	now := s.now()
	a := s.deliveries.client.Send(ctx, w.URL, m.UID, w.secrets(now), now, m.Payload)
	m.Attempts++
	at := &WebhookAttempt{MessageID: m.ID, EndpointID: m.EndpointID, AccountID: m.AccountID, Attempt: m.Attempts,
		At: now, StatusCode: a.StatusCode, Duration: a.Duration, Error: a.Error}
	m.LastStatus, m.LastError, m.ClaimedUntil = a.StatusCode, a.Error, time.Time{}
	m.UpdatedAt = s.now()
	outcome := 0
	switch {
	case a.Delivered():
		m.State = WebhookDelivered
	default:
		next := m.UpdatedAt.Add(max(s.backoff(m.Attempts), a.RetryAfter))
		if next.After(m.RetryUntil) {
			m.State, outcome = WebhookFailed, 2
		} else {
			m.NextAttemptAt, outcome = next, 1
		}
	}
	s.stats.webhooks[outcome].Add(1)
	if err := s.store.RecordWebhookAttempt(ctx, m, at); err != nil {
		// ENotFound: the claim lapsed and another worker took the message (its attempt is in
		// the log; the other worker's outcome stands).
		if !isNotFound(err) {
			s.log.Warn("record webhook attempt", "message", m.UID, "err", err)
		}
	}
}

// backoff is the wait after the n-th failed attempt: 5 s doubling to at most an hour, of which
// a random half is dropped (jitter), so that retries of many messages spread out.
func (s *Service) backoff(n int) time.Duration {
	d := time.Hour
	if n < 20 {
		d = min(5*time.Second<<(n-1), time.Hour)
	}
	r, err := randomInt63(s.rand)
	if err != nil {
		return d
	}
	return d/2 + time.Duration(r%int64(d/2+1))
}

func randomInt63(random io.Reader) (int64, error) {
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b[:]) >> 1), nil
}

// Redeliver queues a message of an endpoint again, now, under the same webhook-id, with a new
// day of retries; a message being sent at this moment is not touched (EConflict).
func (s *Service) Redeliver(ctx context.Context, p *Principal, accountID AccountID, endpointID WebhookID, id int64) (*WebhookMessage, error) {
	if err := authorizeWebhooks(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	var m *WebhookMessage
	err := s.change(ctx, func(st *txn) error {
		var err error
		if m, err = st.WebhookMessage(ctx, accountID, endpointID, id); err != nil {
			return err
		}
		now := s.now()
		if m.State == WebhookPending && m.ClaimedUntil.After(now) {
			return Errorf(EConflict, "Message %s is being sent right now; look at its attempts in a moment.", m.UID)
		}
		m.State, m.NextAttemptAt, m.RetryUntil, m.UpdatedAt = WebhookPending, now, now.Add(s.opts.WebhookRetryFor), now
		if err := st.RequeueWebhookMessage(ctx, m, now); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "webhook.redeliver", "webhook", endpointID)
		e.Detail = map[string]string{"message": m.UID, "event": m.Event}
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wakeDeliveries()
	return m, nil
}

// WebhookDeliveries lists an endpoint's messages, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, p *Principal, accountID AccountID, endpointID WebhookID, state WebhookState, page Page) ([]*WebhookMessage, int, error) {
	if err := authorizeWebhooks(p, accountID, perm.Read); err != nil {
		return nil, 0, err
	}
	if _, err := s.store.WebhookEndpoint(ctx, accountID, endpointID); err != nil {
		return nil, 0, err
	}
	return s.store.ListWebhookMessages(ctx, WebhookMessageFilter{AccountID: accountID, EndpointID: endpointID, State: state,
		Page: page.Normalize()})
}

// WebhookDelivery returns one message of an endpoint with its attempts, oldest first.
func (s *Service) WebhookDelivery(ctx context.Context, p *Principal, accountID AccountID, endpointID WebhookID, id int64) (*WebhookMessage, []*WebhookAttempt, error) {
	if err := authorizeWebhooks(p, accountID, perm.Read); err != nil {
		return nil, nil, err
	}
	m, err := s.store.WebhookMessage(ctx, accountID, endpointID, id)
	if err != nil {
		return nil, nil, err
	}
	as, err := s.store.WebhookAttempts(ctx, accountID, m.ID)
	if err != nil {
		return nil, nil, err
	}
	return m, as, nil
}
