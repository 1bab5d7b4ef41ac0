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
