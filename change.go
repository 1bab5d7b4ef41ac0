package tokend

import "context"

// txn is what a change works with: the Store bound to its transaction (embedded, so helpers
// that take a Store take a *txn), plus the audit events and invalidations the change records.
type txn struct {
	Store
	events []*AuditEvent
	drops  []Invalidation
	issued [][32]byte // hashes of the tokens the change stores, for this node's filter
}

// audit records an event of the change; it is written in the change's transaction.
func (t *txn) audit(e *AuditEvent) { t.events = append(t.events, e) }

// invalidate names cached state the change makes stale. It is appended to the change feed in
// the change's transaction, and dropped from this node's caches after the commit.
func (t *txn) invalidate(inv Invalidation) { t.drops = append(t.drops, inv) }

// change is the one way the Service changes state. fn makes the change through tx, records its
// audit events (tx.audit) and what it makes stale (tx.invalidate); change writes those in the
// same transaction, with the webhook messages of the events (outbox.go), so that a committed
// change always has its audit event, its feed entry and its messages and a rolled-back one has
// none of them. Cache work happens after the commit.
func (s *Service) change(ctx context.Context, fn func(tx *txn) error) error {
	var (
		tx     *txn
		queued int
	)
	err := s.store.Tx(ctx, func(st Store) error {
		tx = &txn{Store: st}
		if err := fn(tx); err != nil {
			return err
		}
		now := s.now()
		for _, e := range tx.events {
			if e.CreatedAt.IsZero() {
				e.CreatedAt = now
			}
			if err := st.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		// The webhook messages of its events, in the same transaction: events and deliveries
		// never disagree.
		var err error
		if queued, err = s.enqueueWebhooks(ctx, st, tx.events); err != nil {
			return err
		}
		if len(tx.drops) == 0 {
			return nil
		}
		// Last, so that the feed's ordering lock (PostgreSQL) is held only for the commit.
		return st.AppendChanges(ctx, now, tx.drops)
	})
	if err != nil {
		return err
	}
	if queued > 0 {
		s.wakeDeliveries()
	}
	// This node need not wait for its own feed read.
	for _, inv := range tx.drops {
		s.drop(inv)
	}
	return nil
}
