package postgres

import (
	"context"
	"strings"
	"time"

	"tokend"
)

func (s *Store) InactiveTokens(ctx context.Context, now time.Time, limit int) ([]*tokend.Token, error) {
	rows, err := s.q().Query(ctx, `
		SELECT `+prefixed("t", tokenCols)+` FROM tokens t JOIN accounts a ON a.id = t.account_id
		WHERE a.inactivity_days > 0 AND a.state = 1 AND t.state = 1 AND t.disabled_at IS NULL
			AND t.kind IN ('pat', 'service')
			AND greatest(t.last_used_at, t.created_at, t.enabled_at) <= $1::timestamptz - make_interval(days => a.inactivity_days)
		ORDER BY t.id LIMIT $2`, ts(now), limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanToken)
}

// prefixed qualifies a column list with a table alias: "id, name" → "t.id, t.name".
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
