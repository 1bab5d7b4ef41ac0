package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"tokend"
	"tokend/perm"
)

const tokenCols = `id, kind, account_id, user_id, created_by, uid, name, hash, slow_hash, legacy_format, state,
	expires_at, last_used_at, last_used_ip, created_at, updated_at, trust_policy_id, rotated_at,
	disabled_at, enabled_at`

func scanToken(row interface{ Scan(...any) error }) (*tokend.Token, error) {
	// The nullable columns scan into one array: one allocation where eleven variables would
	// each escape to the heap (this runs for every token read whole, a list's rows among them).
	var (
		t    tokend.Token
		kind string
		n    [11]sql.NullInt64
	)
	account, user, createdBy, expires, lastUsed, created, upd, tp, rotated, disabled, enabled :=
		&n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8], &n[9], &n[10]
	if err := row.Scan(&t.ID, &kind, account, user, createdBy, &t.UID, &t.Name, &t.Hash, &t.SlowHash,
		&t.LegacyFormat, &t.State, expires, lastUsed, &t.LastUsedIP, created, upd, tp, rotated, disabled, enabled); err != nil {
		return nil, err
	}
	t.Kind = tokend.TokenKind(kind)
	t.AccountID, t.UserID, t.CreatedBy, t.TrustPolicyID = tokend.AccountID(account.Int64), tokend.UserID(user.Int64), tokend.UserID(createdBy.Int64), tokend.TrustPolicyID(tp.Int64)
	t.ExpiresAt, t.LastUsedAt = fromTS(*expires), fromTS(*lastUsed)
	t.CreatedAt, t.UpdatedAt, t.RotatedAt = fromTS(*created), fromTS(*upd), fromTS(*rotated)
	t.DisabledAt, t.EnabledAt = fromTS(*disabled), fromTS(*enabled)
	return &t, nil
}

// hashArg stores an absent hash as NULL, so that any number of slow-hash-only tokens coexist
// under the unique index.
func hashArg(h []byte) any {
	if len(h) == 0 {
		return nil
	}
	return h
}

func (s *Store) CreateToken(ctx context.Context, t *tokend.Token) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO tokens (kind, account_id, user_id, created_by, uid, name, hash, slow_hash, legacy_format, state,
			expires_at, last_used_at, last_used_ip, created_at, updated_at, trust_policy_id, rotated_from, first_use_overlap)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		string(t.Kind), nullID(t.AccountID), nullID(t.UserID), nullID(t.CreatedBy), t.UID, t.Name, hashArg(t.Hash),
		t.SlowHash, boolInt(t.LegacyFormat), t.State, ts(t.ExpiresAt), ts(t.LastUsedAt), t.LastUsedIP,
		ts(t.CreatedAt), ts(t.UpdatedAt), nullID(t.TrustPolicyID), nullID(t.RotatedFrom),
		nullSeconds(t.FirstUseOverlap)).Scan(&t.ID)
	return translate(err)
}

func (s *Store) tokenWhere(ctx context.Context, where string, args ...any) (*tokend.Token, error) {
	t, err := scanToken(s.reader().QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE `+where, args...))
	if err != nil {
		return nil, translateNotFound(err, "Token")
	}
	if err := s.loadTokenPermissions(ctx, []*tokend.Token{t}); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Store) Token(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `account_id = ? AND id = ?`, accountID, id)
}

func (s *Store) TokenUnscoped(ctx context.Context, id tokend.TokenID) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `id = ?`, id)
}

func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `hash = ?`, hash)
}

func (s *Store) TokenByUID(ctx context.Context, accountID tokend.AccountID, uid string) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `account_id = ? AND uid = ?`, accountID, uid)
}

func (s *Store) TokenByUIDUnscoped(ctx context.Context, uid string) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `uid = ?`, uid)
}

// scanFunc adapts a function to the Scan of a row.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

func (s *Store) TokenHashes(ctx context.Context, fn func([]byte)) error {
	rows, err := s.reader().QueryContext(ctx, `SELECT hash FROM tokens WHERE hash IS NOT NULL`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var h sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&h); err != nil {
			return translate(err)
		}
		fn(h)
	}
	return translate(rows.Err())
}

func (s *Store) UpdateToken(ctx context.Context, accountID tokend.AccountID, t *tokend.Token) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE tokens SET name = ?, hash = ?, slow_hash = ?, legacy_format = ?, state = ?, expires_at = ?,
			updated_at = ?, disabled_at = ?, enabled_at = ?
		WHERE id = ? AND account_id IS ?`,
		t.Name, hashArg(t.Hash), t.SlowHash, boolInt(t.LegacyFormat), t.State, ts(t.ExpiresAt),
		ts(t.UpdatedAt), ts(t.DisabledAt), ts(t.EnabledAt), t.ID, nullID(accountID))
	return affected(res, err, "Token")
}

func (s *Store) ListTokens(ctx context.Context, f tokend.TokenFilter) ([]*tokend.Token, int, error) {
	where, args := `kind = ?`, []any{string(f.Kind)}
	add := func(cond string, arg any) {
		where += ` AND ` + cond
		args = append(args, arg)
	}
	if f.AccountID != 0 {
		add(`account_id = ?`, f.AccountID)
	}
	if f.UserID != 0 {
		add(`user_id = ?`, f.UserID)
	}
	if f.State != 0 {
		add(`state = ?`, f.State)
	}
	if !f.LastUsedBefore.IsZero() {
		// A token never used counts as used before any time.
		add(`(last_used_at IS NULL OR last_used_at < ?)`, ts(f.LastUsedBefore))
	}
	if !f.LastUsedAfter.IsZero() {
		add(`last_used_at > ?`, ts(f.LastUsedAfter))
	}
	if !f.ExpiresBefore.IsZero() {
		add(`expires_at < ?`, ts(f.ExpiresBefore))
	}
	if f.Federated {
		add(`(trust_policy_id IS NOT NULL) = ?`, 1)
	}
	if f.Search != "" {
		// lower() folds ASCII only, on both sides alike.
		where += ` AND (instr(lower(name), lower(?)) > 0 OR substr(uid, 1, length(?)) = ?)`
		args = append(args, f.Search, f.Search, f.Search)
	}
	if f.NeverUsed {
		where += ` AND last_used_at IS NULL`
	}
	if f.Disabled {
		where += ` AND disabled_at IS NOT NULL`
	}
	if !f.IdleBefore.IsZero() {
		add(`coalesce(last_used_at, created_at) < ?`, ts(f.IdleBefore))
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE `+where+
		orderBy(f.Order, tokenOrderColumn, "id")+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ts, err := collect(rows, scanToken)
	if err != nil {
		return nil, 0, err
	}
	return ts, total, s.loadTokenPermissions(ctx, ts)
}

// tokenOrderColumn is the ORDER BY expression of a token list's order field. Tokens without
// the field (never used, no expiry) sort last in both directions: the direction orderBy
// appends applies to the column, not to the IS NULL before it.
func tokenOrderColumn(field string) string {
	switch field {
	case "name":
		return "lower(name)"
	case "created_at":
		return field
	case "last_used_at", "expires_at":
		return field + " IS NULL, " + field
	}
	return ""
}

// loadTokenPermissions fills in the grants of service tokens in ts in one query.
func (s *Store) loadTokenPermissions(ctx context.Context, ts []*tokend.Token) error {
	byID := make(map[tokend.TokenID]*tokend.Token, len(ts))
	var args []any
	for _, t := range ts {
		if t.Kind == tokend.KindService {
			byID[t.ID] = t
			args = append(args, t.ID)
		}
	}
	if len(args) == 0 {
		return nil
	}
	rows, err := s.reader().QueryContext(ctx, `
		SELECT id, token_id, permission_set, all_projects, project_id, writable_environment_categories
		FROM token_permissions WHERE token_id IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY id`, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, tokenID int64
			set, cats   string
			all         bool
			project     sql.NullInt64
		)
		if err := rows.Scan(&id, &tokenID, &set, &all, &project, &cats); err != nil {
			return translate(err)
		}
		g, err := decodeGrant(set, all, project, cats)
		if err != nil {
			return err
		}
		byID[tokend.TokenID(tokenID)].Permissions = append(byID[tokend.TokenID(tokenID)].Permissions, tokend.TokenPermission{ID: id, Grant: g})
	}
	return translate(rows.Err())
}

func (s *Store) SetTokenPermissions(ctx context.Context, accountID tokend.AccountID, tokenID tokend.TokenID, grants []perm.Grant) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		st := tx.(*Store)
		var one int
		if err := st.tx.QueryRowContext(ctx, `SELECT 1 FROM tokens WHERE account_id = ? AND id = ?`, accountID, tokenID).Scan(&one); err != nil {
			return translateNotFound(err, "Token")
		}
		if _, err := st.tx.ExecContext(ctx, `DELETE FROM token_permissions WHERE token_id = ?`, tokenID); err != nil {
			return translate(err)
		}
		for _, g := range grants {
			if _, err := st.tx.ExecContext(ctx, `
				INSERT INTO token_permissions (token_id, permission_set, all_projects, project_id, writable_environment_categories)
				VALUES (?, ?, ?, ?, ?)`,
				tokenID, string(g.Set), boolInt(g.AllProjects), nullID(g.ProjectID), encodeCategories(g.WritableEnvironmentCategories)); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) RecordTokenUses(ctx context.Context, uses []tokend.TokenUse) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		st := tx.(*Store)
		for _, u := range uses {
			if _, err := st.tx.ExecContext(ctx, `
				UPDATE tokens SET last_used_at = ?, last_used_ip = ?, first_used_at = coalesce(first_used_at, ?)
				WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
				ts(u.At), u.IP, ts(u.At), u.TokenID, ts(u.At)); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) MarkTokenRotated(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID, at time.Time) error {
	res, err := s.writer().ExecContext(ctx, `UPDATE tokens SET rotated_at = ? WHERE account_id = ? AND id = ? AND rotated_at IS NULL`,
		ts(at), accountID, id)
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		if _, err := s.Token(ctx, accountID, id); err != nil {
			return err
		}
		return tokend.Errorf(tokend.EConflict, "Token %d has been rotated already.", id)
	}
	return nil
}
