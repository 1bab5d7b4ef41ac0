package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const userCredentialCols = `id, account_id, user_id, project_id, credentials_id, state, created_at, updated_at`

func scanUserCredential(row scanner) (*tokend.UserCredential, error) {
	var (
		c                tokend.UserCredential
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&c.ID, &c.AccountID, &c.UserID, &c.ProjectID, &c.CredentialsID, &c.State, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return &c, nil
}

func (s *Store) CreateUserCredential(ctx context.Context, c *tokend.UserCredential) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO user_credentials (account_id, user_id, project_id, credentials_id, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		c.AccountID, c.UserID, c.ProjectID, c.CredentialsID, int(c.State), ts(c.CreatedAt), ts(c.UpdatedAt)).Scan(&c.ID)
	return translate(err)
}

func (s *Store) UserCredential(ctx context.Context, userID tokend.UserID, id tokend.CredentialID) (*tokend.UserCredential, error) {
	c, err := scanUserCredential(s.q().QueryRow(ctx,
		`SELECT `+userCredentialCols+` FROM user_credentials WHERE user_id = $1 AND id = $2`, userID, id))
	if err != nil {
		return nil, translateNotFound(err, "User credentials")
	}
	return c, nil
}

func (s *Store) UpdateUserCredential(ctx context.Context, c *tokend.UserCredential) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE user_credentials SET project_id = $1, credentials_id = $2, state = $3, updated_at = $4
		WHERE user_id = $5 AND id = $6`,
		c.ProjectID, c.CredentialsID, int(c.State), ts(c.UpdatedAt), c.UserID, c.ID)
	return affected(tag, err, "User credentials")
}

func (s *Store) ListUserCredentials(ctx context.Context, f tokend.UserCredentialFilter) ([]*tokend.UserCredential, int, error) {
	var w where
	w.add(`user_id = $%d`, f.UserID)
	if f.AccountID != 0 {
		w.add(`account_id = $%d`, f.AccountID)
	}
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM user_credentials WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+userCredentialCols+` FROM user_credentials WHERE `+w.conds+` ORDER BY id`+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	cs, err := collect(rows, scanUserCredential)
	return cs, total, err
}
