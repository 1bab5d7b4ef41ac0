package sqlite

import (
	"context"
	"database/sql"

	"tokend"
)

const legacyUseCols = `token_id, user_id, account_id, method, route, ip, user_agent, count, first_seen, last_seen, last_status`

func scanLegacyUse(row interface{ Scan(...any) error }) (*tokend.LegacyUse, error) {
	var (
		u           tokend.LegacyUse
		account     sql.NullInt64
		first, last sql.NullInt64
	)
	if err := row.Scan(&u.TokenID, &u.UserID, &account, &u.Method, &u.Route, &u.IP, &u.UserAgent, &u.Count,
		&first, &last, &u.LastStatus); err != nil {
		return nil, err
	}
	u.AccountID = tokend.AccountID(account.Int64)
	u.FirstSeen, u.LastSeen = fromTS(first), fromTS(last)
	return &u, nil
}

// RecordLegacyUses upserts each use in one transaction. The conflict target repeats the unique
// index's coalesce(account_id, 0), which SQLite needs to match the index. On the update every
// right-hand side reads the stored row, so last_status compares against the old last_seen; a
// tie goes to the use recorded later.
func (s *Store) RecordLegacyUses(ctx context.Context, uses []tokend.LegacyUse) error {
	if len(uses) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx tokend.Store) error {
		stmt, err := tx.(*Store).tx.PrepareContext(ctx, `
			INSERT INTO legacy_key_uses (`+legacyUseCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (token_id, coalesce(account_id, 0), method, route, ip, user_agent) DO UPDATE SET
				count = count + excluded.count,
				first_seen = min(first_seen, excluded.first_seen),
				last_seen = max(last_seen, excluded.last_seen),
				last_status = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_status ELSE last_status END`)
		if err != nil {
			return translate(err)
		}
		defer stmt.Close()
		for _, u := range uses {
			if u.LastSeen.IsZero() {
				continue // not a use
			}
			first := u.FirstSeen
			if first.IsZero() {
				first = u.LastSeen
			}
			if _, err := stmt.ExecContext(ctx, u.TokenID, u.UserID, nullID(u.AccountID), u.Method, u.Route, u.IP,
				u.UserAgent, u.Count, ts(first), ts(u.LastSeen), u.LastStatus); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) ListLegacyUses(ctx context.Context, f tokend.LegacyUseFilter) ([]*tokend.LegacyUse, error) {
	where, args := `true`, []any(nil)
	if f.AccountID != 0 {
		where += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.UserID != 0 {
		where += ` AND user_id = ?`
		args = append(args, f.UserID)
	}
	if f.TokenID != 0 {
		where += ` AND token_id = ?`
		args = append(args, f.TokenID)
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT `+legacyUseCols+` FROM legacy_key_uses WHERE `+where+
		` ORDER BY last_seen DESC, id`, args...)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanLegacyUse)
}
