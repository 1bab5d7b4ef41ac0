package sqlite

import (
	"context"
	"database/sql"
	"time"

	"tokend"
)

// AppendChanges appends invs to the change feed in the current transaction (in one of its
// own when there is none). The one writer connection already orders transactions; the head
// row keeps numbers consecutive and unused after pruning.
func (s *Store) AppendChanges(ctx context.Context, at time.Time, invs []tokend.Invalidation) error {
	if len(invs) == 0 {
		return nil
	}
	if s.tx == nil {
		return s.Tx(ctx, func(tx tokend.Store) error { return tx.AppendChanges(ctx, at, invs) })
	}
	var last int64
	if err := s.tx.QueryRowContext(ctx,
		`UPDATE change_feed_head SET seq = seq + ? WHERE id = 1 RETURNING seq`, len(invs)).Scan(&last); err != nil {
		return translate(err)
	}
	first := last - int64(len(invs)) + 1
	for i, inv := range invs {
		if _, err := s.tx.ExecContext(ctx, `
			INSERT INTO change_feed (seq, created_at, all_tokens, token_id, user_id, account_id, projects_only)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			first+int64(i), ts(at), inv.All, nullID(inv.TokenID), nullID(inv.UserID), nullID(inv.AccountID),
			inv.Projects); err != nil {
			return translate(err)
		}
	}
	return nil
}

func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]tokend.Change, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT seq, created_at, all_tokens, token_id, user_id, account_id, projects_only
		FROM change_feed WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []tokend.Change
	for rows.Next() {
		var (
			c                      tokend.Change
			at                     sql.NullInt64
			token, user, accountID sql.NullInt64
		)
		if err := rows.Scan(&c.Seq, &at, &c.All, &token, &user, &accountID, &c.Projects); err != nil {
			return nil, translate(err)
		}
		c.At = fromTS(at)
		c.TokenID, c.UserID, c.AccountID = tokend.TokenID(token.Int64), tokend.UserID(user.Int64), tokend.AccountID(accountID.Int64)
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	var seq int64
	err := s.reader().QueryRowContext(ctx, `SELECT seq FROM change_feed_head WHERE id = 1`).Scan(&seq)
	return seq, translate(err)
}

func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int, error) {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM change_feed WHERE created_at < ?`, ts(before))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

// Subscribe returns at once: an SQLite store serves one node, which drops its own caches
// after each change and reads the feed on its timer.
func (s *Store) Subscribe(context.Context, func(int64)) error { return nil }
