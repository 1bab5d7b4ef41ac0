package sqlite

import (
	"context"
	"database/sql"

	"tokend"
	"tokend/perm"
)

const userCols = `id, email, first_name, last_name, password_hash, state, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*tokend.User, error) {
	var (
		u                tokend.User
		created, updated sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash, &u.State, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	return &u, nil
}

func (s *Store) CreateUser(ctx context.Context, u *tokend.User) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO users (email, first_name, last_name, password_hash, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.FirstName, u.LastName, u.PasswordHash, u.State, ts(u.CreatedAt), ts(u.UpdatedAt)).Scan(&u.ID)
	return translate(err)
}

func (s *Store) User(ctx context.Context, id tokend.UserID) (*tokend.User, error) {
	u, err := scanUser(s.reader().QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, translateNotFound(err, "User")
	}
	return u, nil
}

func (s *Store) UserByEmail(ctx context.Context, email string) (*tokend.User, error) {
	u, err := scanUser(s.reader().QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower(?)`, email))
	if err != nil {
		return nil, translateNotFound(err, "User")
	}
	return u, nil
}

func (s *Store) UpdateUser(ctx context.Context, u *tokend.User) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE users SET email = ?, first_name = ?, last_name = ?, password_hash = ?, state = ?, updated_at = ?
		WHERE id = ?`,
		u.Email, u.FirstName, u.LastName, u.PasswordHash, u.State, ts(u.UpdatedAt), u.ID)
	return affected(res, err, "User")
}

const membershipCols = `id, account_id, user_id, license_type, state, created_at, updated_at`

func scanMembership(row interface{ Scan(...any) error }) (*tokend.Membership, error) {
	var (
		m                tokend.Membership
		license          string
		created, updated sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.AccountID, &m.UserID, &license, &m.State, &created, &updated); err != nil {
		return nil, err
	}
	m.License = perm.License(license)
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(updated)
	return &m, nil
}

func (s *Store) CreateMembership(ctx context.Context, m *tokend.Membership) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO memberships (account_id, user_id, license_type, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		m.AccountID, m.UserID, string(m.License), m.State, ts(m.CreatedAt), ts(m.UpdatedAt)).Scan(&m.ID)
	return translate(err)
}

func (s *Store) Membership(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID) (*tokend.Membership, error) {
	m, err := scanMembership(s.reader().QueryRowContext(ctx,
		`SELECT `+membershipCols+` FROM memberships WHERE account_id = ? AND user_id = ?`, accountID, userID))
	if err != nil {
		return nil, translateNotFound(err, "Membership")
	}
	return m, nil
}

func (s *Store) MembershipByID(ctx context.Context, accountID tokend.AccountID, id tokend.MembershipID) (*tokend.Membership, error) {
	m, err := scanMembership(s.reader().QueryRowContext(ctx,
		`SELECT `+membershipCols+` FROM memberships WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Membership")
	}
	return m, nil
}

func (s *Store) UpdateMembership(ctx context.Context, m *tokend.Membership) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE memberships SET license_type = ?, state = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		string(m.License), m.State, ts(m.UpdatedAt), m.AccountID, m.ID)
	return affected(res, err, "Membership")
}

func (s *Store) ListMemberships(ctx context.Context, f tokend.MembershipFilter) ([]*tokend.Membership, int, error) {
	where, args := `account_id = ?`, []any{f.AccountID}
	if f.State != 0 {
		where += ` AND state = ?`
		args = append(args, f.State)
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+membershipCols+` FROM memberships WHERE `+where+
		orderBy(f.Order, memberOrderColumn, "user_id")+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ms, err := collect(rows, scanMembership)
	return ms, total, err
}

func (s *Store) MembershipsOfUser(ctx context.Context, userID tokend.UserID) ([]*tokend.Membership, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+membershipCols+` FROM memberships WHERE user_id = ? ORDER BY id`, userID)
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
