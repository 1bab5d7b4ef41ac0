package sqlite

import (
	"context"
	"database/sql"
	"time"

	"tokend"
)

// nullSeconds stores a duration in whole seconds, and none as NULL.
func nullSeconds(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return int64(d / time.Second)
}

// chainOf is the ids of the rotation chain through token ?1 of account ?2: up the RotatedFrom
// links and down them (a chain is a line: only its newest token rotates).
const chainOf = `
	WITH RECURSIVE up(id, rotated_from) AS (
		SELECT id, rotated_from FROM tokens WHERE id = ?1 AND account_id = ?2
		UNION SELECT t.id, t.rotated_from FROM tokens t JOIN up ON t.id = up.rotated_from
	), down(id) AS (
		SELECT id FROM tokens WHERE id = ?1 AND account_id = ?2
		UNION SELECT t.id FROM tokens t JOIN down ON t.rotated_from = down.id
	)`

func (s *Store) RevokeRotationChain(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID, at time.Time) ([]*tokend.Token, error) {
	rows, err := s.writer().QueryContext(ctx, chainOf+`
		UPDATE tokens SET state = 2, updated_at = ?3
		WHERE account_id = ?2 AND state = 1 AND id IN (SELECT id FROM up UNION SELECT id FROM down)
		RETURNING `+tokenCols, id, accountID, ts(at))
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanToken)
}

func (s *Store) PendingOverlaps(ctx context.Context, limit int) ([]tokend.PendingOverlap, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT account_id, id, rotated_from, first_use_overlap, first_used_at FROM tokens
		WHERE first_use_overlap IS NOT NULL AND first_used_at IS NOT NULL AND rotated_from IS NOT NULL
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (tokend.PendingOverlap, error) {
		var (
			p        tokend.PendingOverlap
			secs     int64
			firstUse sql.NullInt64
		)
		err := row.Scan(&p.AccountID, &p.TokenID, &p.RotatedFrom, &secs, &firstUse)
		p.Overlap, p.FirstUsedAt = time.Duration(secs)*time.Second, fromTS(firstUse)
		return p, err
	})
}

func (s *Store) StartOverlap(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID) (bool, error) {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE tokens SET first_use_overlap = NULL WHERE account_id = ? AND id = ? AND first_use_overlap IS NOT NULL`, accountID, id)
	if err != nil {
		return false, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(err)
	}
	return n == 1, nil
}
