package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

const licenseMapCols = `id, account_id, license_type, sso_groups, state, created_at, updated_at`

func scanLicenseMap(row scanner) (*tokend.LicenseMap, error) {
	var (
		m                tokend.LicenseMap
		license          string
		state            int
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&m.ID, &m.AccountID, &license, &m.SSOGroups, &state, &created, &updated); err != nil {
		return nil, err
	}
	m.License, m.State = perm.License(license), tokend.State(state)
	if m.SSOGroups == nil {
		m.SSOGroups = []string{}
	}
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(updated)
	return &m, nil
}

func (s *Store) CreateLicenseMap(ctx context.Context, m *tokend.LicenseMap) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO license_maps (account_id, license_type, sso_groups, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		m.AccountID, string(m.License), texts(m.SSOGroups), int(m.State), ts(m.CreatedAt), ts(m.UpdatedAt)).Scan(&m.ID)
	return translate(err)
}

func (s *Store) LicenseMap(ctx context.Context, accountID tokend.AccountID, id tokend.LicenseMapID) (*tokend.LicenseMap, error) {
	m, err := scanLicenseMap(s.q().QueryRow(ctx,
		`SELECT `+licenseMapCols+` FROM license_maps WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "License map")
	}
	return m, nil
}

func (s *Store) UpdateLicenseMap(ctx context.Context, m *tokend.LicenseMap) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE license_maps SET license_type = $1, sso_groups = $2, state = $3, updated_at = $4 WHERE account_id = $5 AND id = $6`,
		string(m.License), texts(m.SSOGroups), int(m.State), ts(m.UpdatedAt), m.AccountID, m.ID)
	return affected(tag, err, "License map")
}

func (s *Store) ListLicenseMaps(ctx context.Context, f tokend.LicenseMapFilter) ([]*tokend.LicenseMap, int, error) {
	var w where
	w.add(`account_id = $%d`, f.AccountID)
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	w.ids("id", f.Select)
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM license_maps WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+licenseMapCols+` FROM license_maps WHERE `+w.conds+
		orderBy(f.Order, licenseMapOrderColumn, "id")+limit, args...)
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
	rows, err := s.q().Query(ctx,
		`SELECT license_type, count(*) FROM memberships WHERE account_id = $1 AND state = 1 GROUP BY license_type`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[perm.License]int{}
	for rows.Next() {
		var (
			l string
			n int
		)
		if err := rows.Scan(&l, &n); err != nil {
			return nil, translate(err)
		}
		out[perm.License(l)] = n
	}
	return out, translate(rows.Err())
}
