package postgres

import (
	"context"
	"time"

	"tokend"
)

func (s *Store) AddDailyUses(ctx context.Context, uses []tokend.DailyUse) error {
	ids := make([]int64, 0, len(uses))
	days := make([]time.Time, 0, len(uses))
	counts := make([]int64, 0, len(uses))
	for _, u := range uses {
		ids = append(ids, int64(u.TokenID))
		days = append(days, u.Day.UTC())
		counts = append(counts, u.Count)
	}
	if len(ids) == 0 {
		return nil
	}
	// One statement for the batch; the same (token, day) twice in it is summed first, since
	// ON CONFLICT cannot touch a row twice. Rows go in key order so concurrent flushes from two
	// nodes lock them in the same order.
	_, err := s.q().Exec(ctx, `
		INSERT INTO token_daily_uses (token_id, day, count)
		SELECT id, day, sum(n) FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS x(id, day, n)
		GROUP BY id, day ORDER BY id, day
		ON CONFLICT (token_id, day) DO UPDATE SET count = token_daily_uses.count + excluded.count`,
		ids, days, counts)
	return translate(err)
}

func (s *Store) DailyUses(ctx context.Context, tokenID tokend.TokenID, since time.Time) ([]tokend.DailyUse, error) {
	rows, err := s.q().Query(ctx, `
		SELECT day, count FROM token_daily_uses WHERE token_id = $1 AND day >= $2::date ORDER BY day`,
		tokenID, since.UTC())
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []tokend.DailyUse
	for rows.Next() {
		var (
			day time.Time
			n   int64
		)
		if err := rows.Scan(&day, &n); err != nil {
			return nil, translate(err)
		}
		out = append(out, tokend.DailyUse{TokenID: tokenID, Day: time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC), Count: n})
	}
	return out, translate(rows.Err())
}
