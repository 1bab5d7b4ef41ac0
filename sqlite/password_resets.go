package sqlite

import (
	"context"
	"database/sql"
	"time"

	"tokend"
)

func (s *Store) DeleteUserSessions(ctx context.Context, userID tokend.UserID, except tokend.SessionID) (int, error) {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id = ? AND id <> ?`, userID, except)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

func (s *Store) CreatePasswordReset(ctx context.Context, r *tokend.PasswordReset) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO password_resets (hash, user_id, account_id, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Hash, r.UserID, r.AccountID, nullID(r.CreatedBy), ts(r.CreatedAt), ts(r.ExpiresAt)).Scan(&r.ID)
	return translate(err)
}

func (s *Store) PasswordResetByHash(ctx context.Context, hash []byte) (*tokend.PasswordReset, error) {
	var (
		r                      tokend.PasswordReset
		by                     sql.NullInt64
		created, expires, used sql.NullInt64
	)
	err := s.reader().QueryRowContext(ctx, `
		SELECT id, hash, user_id, account_id, created_by, created_at, expires_at, used_at
		FROM password_resets WHERE hash = ?`, hash).
		Scan(&r.ID, &r.Hash, &r.UserID, &r.AccountID, &by, &created, &expires, &used)
	if err != nil {
		return nil, translateNotFound(err, "Password reset link")
	}
	r.CreatedBy = tokend.UserID(by.Int64)
	r.CreatedAt, r.ExpiresAt, r.UsedAt = fromTS(created), fromTS(expires), fromTS(used)
	return &r, nil
}

func (s *Store) UsePasswordReset(ctx context.Context, id int64, at time.Time) error {
	res, err := s.writer().ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL`, ts(at), id)
	return affected(res, err, "Password reset link")
}

func (s *Store) DeletePasswordResets(ctx context.Context, userID tokend.UserID) (int, error) {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = ? AND used_at IS NULL`, userID)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
