package sqlite

import (
	"context"
	"time"

	"tokend"
)

func (s *Store) InactiveTokens(ctx context.Context, now time.Time, limit int) ([]*tokend.Token, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT `+prefixed("t", tokenCols)+` FROM tokens t JOIN accounts a ON a.id = t.account_id
		WHERE a.inactivity_days > 0 AND a.state = 1 AND t.state = 1 AND t.disabled_at IS NULL
			AND t.kind IN ('pat', 'service')
			AND max(coalesce(t.last_used_at, 0), t.created_at, coalesce(t.enabled_at, 0)) <= ? - a.inactivity_days * 86400000000
		ORDER BY t.id LIMIT ?`, now.UnixMicro(), limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanToken)
}

func (s *Store) DisableIdleToken(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID, idleSince, at time.Time) (bool, error) {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE tokens SET disabled_at = ?, updated_at = ?
		WHERE id = ? AND account_id = ? AND state = 1 AND disabled_at IS NULL
			AND max(coalesce(last_used_at, 0), created_at, coalesce(enabled_at, 0)) <= ?`,
		ts(at), ts(at), id, accountID, idleSince.UnixMicro())
	if err != nil {
		return false, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(err)
	}
	return n == 1, nil
}
