package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

func (s *Store) DeleteUserSessions(ctx context.Context, userID tokend.UserID, except tokend.SessionID) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1 AND id <> $2`, userID, except)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *Store) CreatePasswordReset(ctx context.Context, r *tokend.PasswordReset) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO password_resets (hash, user_id, account_id, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		r.Hash, r.UserID, r.AccountID, nullID(r.CreatedBy), ts(r.CreatedAt), ts(r.ExpiresAt)).Scan(&r.ID)
	return translate(err)
}

func (s *Store) PasswordResetByHash(ctx context.Context, hash []byte) (*tokend.PasswordReset, error) {
	var (
		r                      tokend.PasswordReset
		by                     pgtype.Int8
		created, expires, used pgtype.Timestamptz
	)
	err := s.q().QueryRow(ctx, `
		SELECT id, hash, user_id, account_id, created_by, created_at, expires_at, used_at
		FROM password_resets WHERE hash = $1`, hash).
		Scan(&r.ID, &r.Hash, &r.UserID, &r.AccountID, &by, &created, &expires, &used)
	if err != nil {
		return nil, translateNotFound(err, "Password reset link")
	}
	r.CreatedBy = tokend.UserID(by.Int64)
	r.CreatedAt, r.ExpiresAt, r.UsedAt = fromTS(created), fromTS(expires), fromTS(used)
	return &r, nil
}

func (s *Store) UsePasswordReset(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.q().Exec(ctx, `UPDATE password_resets SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, ts(at), id)
	return affected(tag, err, "Password reset link")
}

func (s *Store) DeletePasswordResets(ctx context.Context, userID tokend.UserID) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL`, userID)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}
