package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

const userCols = `id, email, first_name, last_name, password_hash, state, created_at, updated_at`

func scanUser(row scanner) (*tokend.User, error) {
	var (
		u                tokend.User
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash, &u.State, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	return &u, nil
}

func (s *Store) CreateUser(ctx context.Context, u *tokend.User) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO users (email, first_name, last_name, password_hash, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		u.Email, u.FirstName, u.LastName, u.PasswordHash, int(u.State), ts(u.CreatedAt), ts(u.UpdatedAt)).Scan(&u.ID)
	return translate(err)
}

func (s *Store) User(ctx context.Context, id tokend.UserID) (*tokend.User, error) {
	u, err := scanUser(s.q().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, translateNotFound(err, "User")
	}
	return u, nil
}

func (s *Store) UserByEmail(ctx context.Context, email string) (*tokend.User, error) {
	// lower(email) is what the unique index holds, so this is an index lookup.
	u, err := scanUser(s.q().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return nil, translateNotFound(err, "User")
	}
	return u, nil
}

func (s *Store) UpdateUser(ctx context.Context, u *tokend.User) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE users SET email = $1, first_name = $2, last_name = $3, password_hash = $4, state = $5, updated_at = $6
		WHERE id = $7`,
		u.Email, u.FirstName, u.LastName, u.PasswordHash, int(u.State), ts(u.UpdatedAt), u.ID)
	return affected(tag, err, "User")
}

const membershipCols = `id, account_id, user_id, license_type, state, created_at, updated_at`

func scanMembership(row scanner) (*tokend.Membership, error) {
	var (
		m                tokend.Membership
		license          string
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&m.ID, &m.AccountID, &m.UserID, &license, &m.State, &created, &updated); err != nil {
		return nil, err
	}
	m.License = perm.License(license)
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(updated)
	return &m, nil
}

func (s *Store) CreateMembership(ctx context.Context, m *tokend.Membership) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO memberships (account_id, user_id, license_type, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		m.AccountID, m.UserID, string(m.License), int(m.State), ts(m.CreatedAt), ts(m.UpdatedAt)).Scan(&m.ID)
	return translate(err)
}

func (s *Store) Membership(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID) (*tokend.Membership, error) {
	m, err := scanMembership(s.q().QueryRow(ctx,
		`SELECT `+membershipCols+` FROM memberships WHERE account_id = $1 AND user_id = $2`, accountID, userID))
	if err != nil {
		return nil, translateNotFound(err, "Membership")
	}
	return m, nil
}

func (s *Store) MembershipByID(ctx context.Context, accountID tokend.AccountID, id tokend.MembershipID) (*tokend.Membership, error) {
	m, err := scanMembership(s.q().QueryRow(ctx,
		`SELECT `+membershipCols+` FROM memberships WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Membership")
	}
	return m, nil
}

func (s *Store) UpdateMembership(ctx context.Context, m *tokend.Membership) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE memberships SET license_type = $1, state = $2, updated_at = $3 WHERE account_id = $4 AND id = $5`,
		string(m.License), int(m.State), ts(m.UpdatedAt), m.AccountID, m.ID)
	return affected(tag, err, "Membership")
}

func (s *Store) ListMemberships(ctx context.Context, f tokend.MembershipFilter) ([]*tokend.Membership, int, error) {
	var w where
	w.add(`account_id = $%d`, f.AccountID)
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM memberships WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+membershipCols+` FROM memberships WHERE `+w.conds+orderBy(f.Order, memberOrderColumn, "user_id")+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ms, err := collect(rows, scanMembership)
	return ms, total, err
}

func (s *Store) MembershipsOfUser(ctx context.Context, userID tokend.UserID) ([]*tokend.Membership, error) {
	rows, err := s.q().Query(ctx, `SELECT `+membershipCols+` FROM memberships WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanMembership)
}

// memberOrderColumn orders memberships by their user's fields (the list shows users).
func memberOrderColumn(field string) string {
	switch field {
	case "email", "first_name", "last_name":
		return `(SELECT lower(u.` + field + `) FROM users u WHERE u.id = memberships.user_id)`
	}
	return ""
}
