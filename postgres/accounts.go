package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

const accountCols = `id, name, plan, state, pat_max_lifetime_s, legacy_keys_until, ip_restrictions_enabled, created_at, updated_at, inactivity_days,
	reuse_revokes_chain, overlap_from_first_use`

func scanAccount(row scanner) (*tokend.Account, error) {
	var (
		a                       tokend.Account
		plan                    string
		lifetime                int64
		until, created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&a.ID, &a.Name, &plan, &a.State, &lifetime, &until, &a.IPRestrictionsEnabled, &created, &updated, &a.InactivityDays,
		&a.ReuseRevokesChain, &a.OverlapFromFirstUse); err != nil {
		return nil, err
	}
	a.Plan = perm.Plan(plan)
	a.PATMaxLifetime = time.Duration(lifetime) * time.Second
	a.LegacyKeysUntil = fromTS(until)
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	return &a, nil
}

func (s *Store) CreateAccount(ctx context.Context, a *tokend.Account) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO accounts (name, plan, state, pat_max_lifetime_s, legacy_keys_until, ip_restrictions_enabled, created_at, updated_at,
			inactivity_days, reuse_revokes_chain, overlap_from_first_use)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		a.Name, string(a.Plan), int(a.State), int64(a.PATMaxLifetime/time.Second), ts(a.LegacyKeysUntil),
		a.IPRestrictionsEnabled, ts(a.CreatedAt), ts(a.UpdatedAt), a.InactivityDays,
		a.ReuseRevokesChain, a.OverlapFromFirstUse).Scan(&a.ID)
	return translate(err)
}

func (s *Store) Account(ctx context.Context, id tokend.AccountID) (*tokend.Account, error) {
	a, err := scanAccount(s.q().QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	if err != nil {
		return nil, translateNotFound(err, "Account")
	}
	return a, nil
}

func (s *Store) UpdateAccount(ctx context.Context, a *tokend.Account) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE accounts SET name = $1, plan = $2, state = $3, pat_max_lifetime_s = $4, legacy_keys_until = $5,
			ip_restrictions_enabled = $6, updated_at = $7, inactivity_days = $8,
			reuse_revokes_chain = $9, overlap_from_first_use = $10
		WHERE id = $11`,
		a.Name, string(a.Plan), int(a.State), int64(a.PATMaxLifetime/time.Second), ts(a.LegacyKeysUntil),
		a.IPRestrictionsEnabled, ts(a.UpdatedAt), a.InactivityDays,
		a.ReuseRevokesChain, a.OverlapFromFirstUse, a.ID)
	return affected(tag, err, "Account")
}

func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.q().QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	return n, translate(err)
}

func (s *Store) AccountsOfUser(ctx context.Context, userID tokend.UserID) ([]*tokend.Account, error) {
	rows, err := s.q().Query(ctx, `
		SELECT a.id, a.name, a.plan, a.state, a.pat_max_lifetime_s, a.legacy_keys_until, a.ip_restrictions_enabled, a.created_at, a.updated_at,
			a.inactivity_days, a.reuse_revokes_chain, a.overlap_from_first_use
		FROM accounts a
		JOIN memberships m ON m.account_id = a.id
		WHERE m.user_id = $1 AND m.state = 1 AND a.state = 1
		ORDER BY a.id`, userID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAccount)
}
