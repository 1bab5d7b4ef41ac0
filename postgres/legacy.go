package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const legacyUseCols = `token_id, user_id, account_id, method, route, ip, user_agent, count, first_seen, last_seen, last_status`

func scanLegacyUse(row scanner) (*tokend.LegacyUse, error) {
	var (
		u           tokend.LegacyUse
		account     pgtype.Int8
		first, last pgtype.Timestamptz
	)
	if err := row.Scan(&u.TokenID, &u.UserID, &account, &u.Method, &u.Route, &u.IP, &u.UserAgent, &u.Count,
		&first, &last, &u.LastStatus); err != nil {
		return nil, err
	}
	u.AccountID = tokend.AccountID(account.Int64)
	u.FirstSeen, u.LastSeen = fromTS(first), fromTS(last)
	return &u, nil
}

// RecordLegacyUses upserts the whole batch in one statement over unnest arrays. The batch is
// folded by place first, as one INSERT … ON CONFLICT may not update a row twice: counts add up,
// the earliest FirstSeen and the latest LastSeen win, a LastSeen tie goes to the later use in
// the batch, and a new row takes the first use's user. Rows go in in place order, so that two
// nodes flushing overlapping places lock them in the same order instead of deadlocking.
func (s *Store) RecordLegacyUses(ctx context.Context, uses []tokend.LegacyUse) error {
	var (
		tokens, users, accounts, counts []int64
		methods, routes, ips, agents    []string
		firsts, lasts                   []time.Time
		statuses                        []int32
	)
	for _, u := range uses {
		if u.LastSeen.IsZero() {
			continue // not a use
		}
		first := u.FirstSeen
		if first.IsZero() {
			first = u.LastSeen
		}
		tokens, users, accounts, counts = append(tokens, int64(u.TokenID)), append(users, int64(u.UserID)),
			append(accounts, int64(u.AccountID)), append(counts, u.Count)
		methods, routes, ips, agents = append(methods, u.Method), append(routes, u.Route),
			append(ips, u.IP), append(agents, u.UserAgent)
		firsts, lasts = append(firsts, first.Truncate(time.Microsecond)), append(lasts, u.LastSeen.Truncate(time.Microsecond))
		statuses = append(statuses, int32(u.LastStatus))
	}
	if len(tokens) == 0 {
		return nil
	}
	_, err := s.q().Exec(ctx, `
		INSERT INTO legacy_key_uses AS l (`+legacyUseCols+`)
		SELECT token_id, (array_agg(user_id ORDER BY ord))[1], nullif(account_id, 0), method, route, ip, user_agent,
			sum(count)::bigint, min(first_seen), max(last_seen),
			(array_agg(last_status ORDER BY last_seen DESC, ord DESC))[1]
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::bigint[], $9::timestamptz[], $10::timestamptz[], $11::integer[]) WITH ORDINALITY
			AS u(token_id, user_id, account_id, method, route, ip, user_agent, count, first_seen, last_seen, last_status, ord)
		GROUP BY token_id, account_id, method, route, ip, user_agent
		ORDER BY token_id, account_id, method, route, ip, user_agent
		ON CONFLICT (token_id, account_id, method, route, ip, user_agent) DO UPDATE SET
			count = l.count + excluded.count,
			first_seen = least(l.first_seen, excluded.first_seen),
			last_seen = greatest(l.last_seen, excluded.last_seen),
			last_status = CASE WHEN excluded.last_seen >= l.last_seen THEN excluded.last_status ELSE l.last_status END`,
		tokens, users, accounts, methods, routes, ips, agents, counts, firsts, lasts, statuses)
	return translate(err)
}

func (s *Store) ListLegacyUses(ctx context.Context, f tokend.LegacyUseFilter) ([]*tokend.LegacyUse, error) {
	var w where
	if f.AccountID != 0 {
		w.add(`account_id = $%d`, f.AccountID)
	}
	if f.UserID != 0 {
		w.add(`user_id = $%d`, f.UserID)
	}
	if f.TokenID != 0 {
		w.add(`token_id = $%d`, f.TokenID)
	}
	q := `SELECT ` + legacyUseCols + ` FROM legacy_key_uses`
	if w.conds != "" {
		q += ` WHERE ` + w.conds
	}
	rows, err := s.q().Query(ctx, q+` ORDER BY last_seen DESC, id`, w.args...)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanLegacyUse)
}
