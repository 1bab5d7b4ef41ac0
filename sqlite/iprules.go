package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"tokend"
)

const ipRuleCols = `id, account_id, name, description, type, cidrs, state, created_by, created_by_token, created_at, updated_at`

func scanIPRule(row interface{ Scan(...any) error }) (*tokend.IPRule, error) {
	var (
		r                tokend.IPRule
		cidrs            string
		createdBy        sql.NullInt64
		created, updated sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.AccountID, &r.Name, &r.Description, &r.Type, &cidrs, &r.State, &createdBy,
		&r.CreatedByST, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cidrs), &r.CIDRs); err != nil {
		return nil, err
	}
	r.CreatedBy = tokend.UserID(createdBy.Int64)
	r.CreatedAt, r.UpdatedAt = fromTS(created), fromTS(updated)
	return &r, nil
}

func (s *Store) CreateIPRule(ctx context.Context, r *tokend.IPRule) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO ip_restriction_rules (account_id, name, description, type, cidrs, state, created_by, created_by_token, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.AccountID, r.Name, r.Description, int(r.Type), encodeCategories(r.CIDRs), r.State, nullID(r.CreatedBy),
		r.CreatedByST, ts(r.CreatedAt), ts(r.UpdatedAt)).Scan(&r.ID)
	return translate(err)
}

func (s *Store) IPRule(ctx context.Context, accountID tokend.AccountID, id tokend.IPRuleID) (*tokend.IPRule, error) {
	r, err := scanIPRule(s.reader().QueryRowContext(ctx,
		`SELECT `+ipRuleCols+` FROM ip_restriction_rules WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "IP restriction rule")
	}
	return r, nil
}

func (s *Store) UpdateIPRule(ctx context.Context, r *tokend.IPRule) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE ip_restriction_rules SET name = ?, description = ?, type = ?, cidrs = ?, state = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		r.Name, r.Description, int(r.Type), encodeCategories(r.CIDRs), r.State, ts(r.UpdatedAt), r.AccountID, r.ID)
	return affected(res, err, "IP restriction rule")
}

func (s *Store) ListIPRules(ctx context.Context, accountID tokend.AccountID) ([]*tokend.IPRule, error) {
	rows, err := s.reader().QueryContext(ctx,
		`SELECT `+ipRuleCols+` FROM ip_restriction_rules WHERE account_id = ? AND state = 1 ORDER BY id`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanIPRule)
}
