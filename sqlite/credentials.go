package sqlite

import (
	"context"
	"database/sql"

	"tokend"
)

const userCredentialCols = `id, account_id, user_id, project_id, credentials_id, state, created_at, updated_at`

func scanUserCredential(row interface{ Scan(...any) error }) (*tokend.UserCredential, error) {
	var (
		c                tokend.UserCredential
		created, updated sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.AccountID, &c.UserID, &c.ProjectID, &c.CredentialsID, &c.State, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return &c, nil
}

func (s *Store) CreateUserCredential(ctx context.Context, c *tokend.UserCredential) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO user_credentials (account_id, user_id, project_id, credentials_id, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.AccountID, c.UserID, c.ProjectID, c.CredentialsID, c.State, ts(c.CreatedAt), ts(c.UpdatedAt)).Scan(&c.ID)
	return translate(err)
}

func (s *Store) UserCredential(ctx context.Context, userID tokend.UserID, id tokend.CredentialID) (*tokend.UserCredential, error) {
	c, err := scanUserCredential(s.reader().QueryRowContext(ctx,
		`SELECT `+userCredentialCols+` FROM user_credentials WHERE user_id = ? AND id = ?`, userID, id))
	if err != nil {
		return nil, translateNotFound(err, "User credentials")
	}
	return c, nil
}

func (s *Store) UpdateUserCredential(ctx context.Context, c *tokend.UserCredential) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE user_credentials SET project_id = ?, credentials_id = ?, state = ?, updated_at = ?
		WHERE user_id = ? AND id = ?`,
		c.ProjectID, c.CredentialsID, c.State, ts(c.UpdatedAt), c.UserID, c.ID)
	return affected(res, err, "User credentials")
}

func (s *Store) ListUserCredentials(ctx context.Context, f tokend.UserCredentialFilter) ([]*tokend.UserCredential, int, error) {
	where, args := `user_id = ?`, []any{f.UserID}
	if f.AccountID != 0 {
		where += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.State != 0 {
		where += ` AND state = ?`
		args = append(args, f.State)
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM user_credentials WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+userCredentialCols+` FROM user_credentials WHERE `+where+
		` ORDER BY id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	cs, err := collect(rows, scanUserCredential)
	return cs, total, err
}
