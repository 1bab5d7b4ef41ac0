package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"tokend"
)

// channel is the LISTEN/NOTIFY channel nodes share. Channels are per database, not per schema,
// so deployments in other schemas of the same database hear these too: harmless, they only
// drop cache entries.
const channel = "tokend_invalidate"

// wireInvalidation is the compact JSON of an Invalidation on the channel.
type wireInvalidation struct {
	All       bool  `json:"all,omitempty"`
	TokenID   int64 `json:"token,omitempty"`
	UserID    int64 `json:"user,omitempty"`
	AccountID int64 `json:"account,omitempty"`
}

// Publish notifies every node listening on the database. Inside a Tx the notification is sent
// when the transaction commits, and not at all if it rolls back.
func (s *Store) Publish(ctx context.Context, inv tokend.Invalidation) error {
	b, err := json.Marshal(wireInvalidation(inv))
	if err != nil {
		return err
	}
	_, err = s.q().Exec(ctx, `SELECT pg_notify('`+channel+`', $1)`, string(b))
	return translate(err)
}

// Subscribe listens on a connection of its own, taken out of the pool, and calls fn for each
// notification until ctx ends (it then returns nil) or the connection breaks (it returns why).
// Notifications sent while no one listened are lost, so fn first gets Invalidation{All: true}.
func (s *Store) Subscribe(ctx context.Context, fn func(tokend.Invalidation)) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("postgres: subscribe: %w", err)
	}
	// Hijacked, the connection never goes back to the pool still listening.
	conn := c.Hijack()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("postgres: subscribe: %w", err)
	}
	fn(tokend.Invalidation{All: true})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("postgres: invalidation feed: %w", err)
		}
		var w wireInvalidation
		if err := json.Unmarshal([]byte(n.Payload), &w); err != nil {
			// Not ours or garbled: dropping everything is safe, missing a revocation is not.
			w = wireInvalidation{All: true}
		}
		fn(tokend.Invalidation(w))
	}
}
