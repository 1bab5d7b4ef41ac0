package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const ipRuleCols = `id, account_id, name, description, type, cidrs, state, created_by, created_by_token, created_at, updated_at`

func scanIPRule(row scanner) (*tokend.IPRule, error) {
	var (
		r                tokend.IPRule
		typ, state       int
		createdBy        pgtype.Int8
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&r.ID, &r.AccountID, &r.Name, &r.Description, &typ, &r.CIDRs, &state, &createdBy,
		&r.CreatedByST, &created, &updated); err != nil {
		return nil, err
	}
	r.Type, r.State = tokend.IPRuleType(typ), tokend.State(state)
	r.CreatedBy = tokend.UserID(createdBy.Int64)
	r.CreatedAt, r.UpdatedAt = fromTS(created), fromTS(updated)
	return &r, nil
}

func cidrsArg(c []string) []string {
	if c == nil {
		return []string{}
	}
	return c
}

func (s *Store) CreateIPRule(ctx context.Context, r *tokend.IPRule) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO ip_restriction_rules (account_id, name, description, type, cidrs, state, created_by, created_by_token, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		r.AccountID, r.Name, r.Description, int(r.Type), cidrsArg(r.CIDRs), int(r.State), nullID(r.CreatedBy),
		r.CreatedByST, ts(r.CreatedAt), ts(r.UpdatedAt)).Scan(&r.ID)
	return translate(err)
}

func (s *Store) IPRule(ctx context.Context, accountID tokend.AccountID, id tokend.IPRuleID) (*tokend.IPRule, error) {
	r, err := scanIPRule(s.q().QueryRow(ctx,
		`SELECT `+ipRuleCols+` FROM ip_restriction_rules WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "IP restriction rule")
	}
	return r, nil
}

func (s *Store) UpdateIPRule(ctx context.Context, r *tokend.IPRule) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE ip_restriction_rules SET name = $1, description = $2, type = $3, cidrs = $4, state = $5, updated_at = $6
		WHERE account_id = $7 AND id = $8`,
		r.Name, r.Description, int(r.Type), cidrsArg(r.CIDRs), int(r.State), ts(r.UpdatedAt), r.AccountID, r.ID)
	return affected(tag, err, "IP restriction rule")
}

func (s *Store) ListIPRules(ctx context.Context, accountID tokend.AccountID) ([]*tokend.IPRule, error) {
	rows, err := s.q().Query(ctx,
		`SELECT `+ipRuleCols+` FROM ip_restriction_rules WHERE account_id = $1 AND state = 1 ORDER BY id`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanIPRule)
}
