package sqlite

import (
	"context"
	"time"

	"tokend"
)

const secondsPerDay = 24 * 60 * 60

func (s *Store) AddDailyUses(ctx context.Context, uses []tokend.DailyUse) error {
	if len(uses) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx tokend.Store) error {
		st := tx.(*Store)
		for _, u := range uses {
			if _, err := st.tx.ExecContext(ctx, `
				INSERT INTO token_daily_uses (token_id, day, count) VALUES (?, ?, ?)
				ON CONFLICT (token_id, day) DO UPDATE SET count = count + excluded.count`,
				u.TokenID, u.Day.Unix()/secondsPerDay, u.Count); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) DailyUses(ctx context.Context, tokenID tokend.TokenID, since time.Time) ([]tokend.DailyUse, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT day, count FROM token_daily_uses WHERE token_id = ? AND day >= ? ORDER BY day`,
		tokenID, since.Unix()/secondsPerDay)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []tokend.DailyUse
	for rows.Next() {
		var day, n int64
		if err := rows.Scan(&day, &n); err != nil {
			return nil, translate(err)
		}
		out = append(out, tokend.DailyUse{TokenID: tokenID, Day: time.Unix(day*secondsPerDay, 0).UTC(), Count: n})
	}
	return out, translate(rows.Err())
}
