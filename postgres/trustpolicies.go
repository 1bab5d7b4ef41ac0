package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

// storedGrant is a grant as the grants column keeps it: the JSON names are part of the format.
type storedGrant struct {
	Set        string   `json:"permission_set"`
	All        bool     `json:"all_projects"`
	Project    int64    `json:"project_id,omitempty"`
	Categories []string `json:"writable_environment_categories,omitempty"`
}

func encodeGrants(gs []perm.Grant) string {
	out := make([]storedGrant, len(gs))
	for i, g := range gs {
		out[i] = storedGrant{string(g.Set), g.AllProjects, g.ProjectID, g.WritableEnvironmentCategories}
	}
	b, _ := json.Marshal(out) // plain structs always marshal
	return string(b)
}

func decodeGrants(s string) ([]perm.Grant, error) {
	var in []storedGrant
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	out := make([]perm.Grant, len(in))
	for i, g := range in {
		out[i] = perm.Grant{Set: perm.Set(g.Set), AllProjects: g.All, ProjectID: g.Project, WritableEnvironmentCategories: g.Categories}
	}
	return out, nil
}

func encodeClaims(c map[string]string) string {
	if c == nil {
		c = map[string]string{}
	}
	b, _ := json.Marshal(c) // a map of strings always marshals
	return string(b)
}

const trustPolicyCols = `id, account_id, name, issuer, audience, claims::text, grants::text, ttl_seconds, jwks, state, created_by,
	created_at, updated_at`

func scanTrustPolicy(row scanner) (*tokend.TrustPolicy, error) {
	var (
		p            tokend.TrustPolicy
		claims, gs   string
		ttl          int64
		createdBy    pgtype.Int8
		created, upd pgtype.Timestamptz
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Issuer, &p.Audience, &claims, &gs, &ttl, &p.JWKS, &p.State,
		&createdBy, &created, &upd); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(claims), &p.Claims); err != nil {
		return nil, err
	}
	var err error
	if p.Grants, err = decodeGrants(gs); err != nil {
		return nil, err
	}
	p.TTL = time.Duration(ttl) * time.Second
	p.CreatedBy = tokend.UserID(createdBy.Int64)
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(upd)
	return &p, nil
}

func (s *Store) CreateTrustPolicy(ctx context.Context, p *tokend.TrustPolicy) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO trust_policies (account_id, name, issuer, audience, claims, grants, ttl_seconds, jwks, state, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12) RETURNING id`,
		p.AccountID, p.Name, p.Issuer, p.Audience, encodeClaims(p.Claims), encodeGrants(p.Grants), int64(p.TTL/time.Second),
		p.JWKS, int(p.State), nullID(p.CreatedBy), ts(p.CreatedAt), ts(p.UpdatedAt)).Scan(&p.ID)
	return translate(err)
}

func (s *Store) TrustPolicy(ctx context.Context, accountID tokend.AccountID, id tokend.TrustPolicyID) (*tokend.TrustPolicy, error) {
	p, err := scanTrustPolicy(s.q().QueryRow(ctx,
		`SELECT `+trustPolicyCols+` FROM trust_policies WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Trust policy")
	}
	return p, nil
}

func (s *Store) UpdateTrustPolicy(ctx context.Context, p *tokend.TrustPolicy) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE trust_policies SET name = $1, issuer = $2, audience = $3, claims = $4::jsonb, grants = $5::jsonb,
			ttl_seconds = $6, jwks = $7, state = $8, updated_at = $9
		WHERE account_id = $10 AND id = $11`,
		p.Name, p.Issuer, p.Audience, encodeClaims(p.Claims), encodeGrants(p.Grants), int64(p.TTL/time.Second), p.JWKS,
		int(p.State), ts(p.UpdatedAt), p.AccountID, p.ID)
	return affected(tag, err, "Trust policy")
}

func (s *Store) ListTrustPolicies(ctx context.Context, f tokend.TrustPolicyFilter) ([]*tokend.TrustPolicy, int, error) {
	var w where
	w.add(`account_id = $%d`, f.AccountID)
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	if f.Issuer != "" {
		w.add(`issuer = $%d`, f.Issuer)
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM trust_policies WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+trustPolicyCols+` FROM trust_policies WHERE `+w.conds+` ORDER BY id`+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ps, err := collect(rows, scanTrustPolicy)
	if err != nil {
		return nil, 0, err
	}
	return ps, total, nil
}

func (s *Store) RevokeTrustPolicyTokens(ctx context.Context, accountID tokend.AccountID, policyID tokend.TrustPolicyID, at time.Time) ([]tokend.TokenID, error) {
	rows, err := s.q().Query(ctx, `
		UPDATE tokens SET state = $1, updated_at = $2
		WHERE account_id = $3 AND trust_policy_id = $4 AND state = $5 RETURNING id`,
		int(tokend.StateDeleted), ts(at), accountID, policyID, int(tokend.StateActive))
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r scanner) (tokend.TokenID, error) {
		var id tokend.TokenID
		return id, r.Scan(&id)
	})
}

func (s *Store) UseSubjectToken(ctx context.Context, key []byte, expiresAt, now time.Time) error {
	tag, err := s.q().Exec(ctx, `
		INSERT INTO subject_token_uses (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE subject_token_uses.expires_at <= $3`,
		key, ts(expiresAt), ts(now))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return &tokend.Error{Code: tokend.EConflict, Message: "The token was already used."}
	}
	return nil
}

func (s *Store) DeleteExpiredSubjectTokens(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM subject_token_uses WHERE expires_at <= $1`, ts(now))
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}
