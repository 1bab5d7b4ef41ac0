package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"tokend"
	"tokend/perm"
)

const licenseMapCols = `id, account_id, license_type, sso_groups, state, created_at, updated_at`

func scanLicenseMap(row interface{ Scan(...any) error }) (*tokend.LicenseMap, error) {
	var (
		m                tokend.LicenseMap
		groups           string
		created, updated sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.AccountID, &m.License, &groups, &m.State, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(groups), &m.SSOGroups); err != nil {
		return nil, err
	}
	if m.SSOGroups == nil {
		m.SSOGroups = []string{}
	}
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(updated)
	return &m, nil
}

func ssoGroupsArg(groups []string) string {
	if groups == nil {
		groups = []string{}
	}
	b, _ := json.Marshal(groups)
	return string(b)
}

func (s *Store) CreateLicenseMap(ctx context.Context, m *tokend.LicenseMap) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO license_maps (account_id, license_type, sso_groups, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		m.AccountID, string(m.License), ssoGroupsArg(m.SSOGroups), m.State, ts(m.CreatedAt), ts(m.UpdatedAt)).Scan(&m.ID)
	return translate(err)
}

func (s *Store) LicenseMap(ctx context.Context, accountID tokend.AccountID, id tokend.LicenseMapID) (*tokend.LicenseMap, error) {
	m, err := scanLicenseMap(s.reader().QueryRowContext(ctx,
		`SELECT `+licenseMapCols+` FROM license_maps WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "License map")
	}
	return m, nil
}

func (s *Store) UpdateLicenseMap(ctx context.Context, m *tokend.LicenseMap) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE license_maps SET license_type = ?, sso_groups = ?, state = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		string(m.License), ssoGroupsArg(m.SSOGroups), m.State, ts(m.UpdatedAt), m.AccountID, m.ID)
	return affected(res, err, "License map")
}

func (s *Store) ListLicenseMaps(ctx context.Context, f tokend.LicenseMapFilter) ([]*tokend.LicenseMap, int, error) {
	where, args := `account_id = ?`, []any{f.AccountID}
	if f.State != 0 {
		where += ` AND state = ?`
		args = append(args, f.State)
	}
	where, args, some := idSelect(where, args, "id", f.Select)
	if !some {
		return nil, 0, nil
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM license_maps WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+licenseMapCols+` FROM license_maps WHERE `+where+
		orderBy(f.Order, licenseMapOrderColumn, "id")+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ms, err := collect(rows, scanLicenseMap)
	return ms, total, err
}

func licenseMapOrderColumn(field string) string {
	switch field {
	case "license_type", "created_at", "updated_at":
		return field
	}
	return ""
}

func (s *Store) CountLicenses(ctx context.Context, accountID tokend.AccountID) (map[perm.License]int, error) {
	rows, err := s.reader().QueryContext(ctx,
		`SELECT license_type, count(*) FROM memberships WHERE account_id = ? AND state = 1 GROUP BY license_type`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[perm.License]int{}
	for rows.Next() {
		var (
			l perm.License
			n int
		)
		if err := rows.Scan(&l, &n); err != nil {
			return nil, translate(err)
		}
		out[l] = n
	}
	return out, translate(rows.Err())
}
