package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"tokend"
)

// channel is the LISTEN/NOTIFY channel that wakes nodes when the feed grows. Channels are per
// database, not per schema, so deployments in other schemas of the same database wake each
// other too: harmless, a wake-up only makes a node read its own feed.
const channel = "tokend_feed"

// AppendChanges appends invs to the change feed in the current transaction (in one of its own
// when there is none) and queues a wake-up, which PostgreSQL sends when the transaction
// commits and drops when it rolls back.
//
// Numbers come from the change_feed_head row, whose row lock the transaction holds until it
// commits: the next writer waits, so numbers are consecutive and no entry becomes visible
// before a lower one. That serializes the commits of changes that write the feed, and nothing
// else; the service appends last, so the lock is held only for the commit.
func (s *Store) AppendChanges(ctx context.Context, at time.Time, invs []tokend.Invalidation) error {
	if len(invs) == 0 {
		return nil
	}
	if s.tx == nil {
		return s.Tx(ctx, func(tx tokend.Store) error { return tx.AppendChanges(ctx, at, invs) })
	}
	var last int64
	if err := s.tx.QueryRow(ctx,
		`UPDATE change_feed_head SET seq = seq + $1 RETURNING seq`, len(invs)).Scan(&last); err != nil {
		return translate(err)
	}
	first := last - int64(len(invs)) + 1
	all := make([]bool, len(invs))
	tokens := make([]int64, len(invs))
	users := make([]int64, len(invs))
	accounts := make([]int64, len(invs))
	projects := make([]bool, len(invs))
	for i, inv := range invs {
		all[i], tokens[i], users[i], accounts[i] = inv.All, int64(inv.TokenID), int64(inv.UserID), int64(inv.AccountID)
		projects[i] = inv.Projects
	}
	if _, err := s.tx.Exec(ctx, `
		INSERT INTO change_feed (seq, created_at, all_tokens, token_id, user_id, account_id, projects_only)
		SELECT $1 + n - 1, $2, a, nullif(t, 0), nullif(u, 0), nullif(ac, 0), p
		FROM unnest($3::boolean[], $4::bigint[], $5::bigint[], $6::bigint[], $7::boolean[])
			WITH ORDINALITY AS x(a, t, u, ac, p, n)`,
		first, ts(at), all, tokens, users, accounts, projects); err != nil {
		return translate(err)
	}
	_, err := s.tx.Exec(ctx, `SELECT pg_notify('`+channel+`', $1)`, strconv.FormatInt(last, 10))
	return translate(err)
}

func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]tokend.Change, error) {
	rows, err := s.q().Query(ctx, `
		SELECT seq, created_at, all_tokens, coalesce(token_id, 0), coalesce(user_id, 0), coalesce(account_id, 0),
			projects_only
		FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tokend.Change, error) {
		var c tokend.Change
		err := row.Scan(&c.Seq, &c.At, &c.All, &c.TokenID, &c.UserID, &c.AccountID, &c.Projects)
		c.At = c.At.UTC()
		return c, err
	})
	return out, translate(err)
}

func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	var seq int64
	err := s.q().QueryRow(ctx, `SELECT seq FROM change_feed_head`).Scan(&seq)
	return seq, translate(err)
}

func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM change_feed WHERE created_at < $1`, ts(before))
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

// listenCheck is how long the wake-up connection may stay quiet before it is checked, and
// how long the check may take: a link that stops moving bytes without closing is found
// within twice this, not never.
const listenCheck = 5 * time.Second

// Subscribe listens on a connection of its own, taken out of the pool, and calls wake with
// the number each notification carries (0 once listening starts) until ctx ends (it returns
// nil) or the connection breaks or stops answering (it returns why).
func (s *Store) Subscribe(ctx context.Context, wake func(int64)) error {
	// Connecting over a link that went silent must fail too, not hang until ctx ends.
	actx, cancel := context.WithTimeout(ctx, listenCheck)
	c, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("postgres: subscribe: %w", err)
	}
	// Hijacked, the connection never goes back to the pool still listening.
	conn := c.Hijack()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	lctx, cancel := context.WithTimeout(ctx, listenCheck)
	_, err = conn.Exec(lctx, `LISTEN `+channel)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("postgres: subscribe: %w", err)
	}
	wake(0)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed() {
			// Quiet: make sure the link still carries bytes.
			pctx, cancel := context.WithTimeout(ctx, listenCheck)
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("postgres: change feed wake-ups: %w", err)
		}
		seq, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			seq = 0 // not ours or garbled: a read costs little
		}
		wake(seq)
	}
}
