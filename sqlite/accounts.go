package sqlite

import (
	"context"
	"database/sql"
	"time"

	"tokend"
	"tokend/perm"
)

const accountCols = `id, name, plan, state, pat_max_lifetime_s, legacy_keys_until, ip_restrictions_enabled, created_at, updated_at, inactivity_days,
	reuse_revokes_chain, overlap_from_first_use`

func scanAccount(row interface{ Scan(...any) error }) (*tokend.Account, error) {
	var (
		a                       tokend.Account
		plan                    string
		lifetime                int64
		until, created, updated sql.NullInt64
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
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO accounts (name, plan, state, pat_max_lifetime_s, legacy_keys_until, ip_restrictions_enabled, created_at, updated_at,
			inactivity_days, reuse_revokes_chain, overlap_from_first_use)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Name, string(a.Plan), a.State, int64(a.PATMaxLifetime/time.Second), ts(a.LegacyKeysUntil),
		boolInt(a.IPRestrictionsEnabled), ts(a.CreatedAt), ts(a.UpdatedAt), a.InactivityDays,
		boolInt(a.ReuseRevokesChain), boolInt(a.OverlapFromFirstUse)).Scan(&a.ID)
	return translate(err)
}

func (s *Store) Account(ctx context.Context, id tokend.AccountID) (*tokend.Account, error) {
	a, err := scanAccount(s.reader().QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if err != nil {
		return nil, translateNotFound(err, "Account")
	}
	return a, nil
}

func (s *Store) UpdateAccount(ctx context.Context, a *tokend.Account) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE accounts SET name = ?, plan = ?, state = ?, pat_max_lifetime_s = ?, legacy_keys_until = ?,
			ip_restrictions_enabled = ?, updated_at = ?, inactivity_days = ?,
			reuse_revokes_chain = ?, overlap_from_first_use = ?
		WHERE id = ?`,
		a.Name, string(a.Plan), a.State, int64(a.PATMaxLifetime/time.Second), ts(a.LegacyKeysUntil),
		boolInt(a.IPRestrictionsEnabled), ts(a.UpdatedAt), a.InactivityDays,
		boolInt(a.ReuseRevokesChain), boolInt(a.OverlapFromFirstUse), a.ID)
	return affected(res, err, "Account")
}

func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	return n, translate(err)
}

func (s *Store) AccountsOfUser(ctx context.Context, userID tokend.UserID) ([]*tokend.Account, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT `+prefixed("a", accountCols)+` FROM accounts a
		JOIN memberships m ON m.account_id = a.id
		WHERE m.user_id = ? AND m.state = 1 AND a.state = 1
		ORDER BY a.id`, userID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanAccount)
}
