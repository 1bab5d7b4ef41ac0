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

func (s *Store) DisableIdleToken(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID, idleSince, at time.Time) (bool, error) {
	// Under READ COMMITTED a concurrent claim waits for the row lock, then finds the row
	// disabled and changes nothing.
	tag, err := s.q().Exec(ctx, `
		UPDATE tokens SET disabled_at = $1, updated_at = $1
		WHERE id = $2 AND account_id = $3 AND state = 1 AND disabled_at IS NULL
			AND greatest(last_used_at, created_at, enabled_at) <= $4`,
		ts(at), id, accountID, ts(idleSince))
	if err != nil {
		return false, translate(err)
	}
	return tag.RowsAffected() == 1, nil
}

// prefixed qualifies a column list with a table alias: "id, name" → "t.id, t.name".
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
