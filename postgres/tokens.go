package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

const tokenCols = `id, kind, account_id, user_id, created_by, uid, name, hash, slow_hash, legacy_format, state,
	expires_at, last_used_at, last_used_ip, created_at, updated_at, trust_policy_id, rotated_at,
	disabled_at, enabled_at`

func scanToken(row scanner) (*tokend.Token, error) {
	// The nullable columns scan into two arrays: two allocations where eleven variables would each
	// escape to the heap (this runs for every token read whole, a list's rows among them).
	var (
		t     tokend.Token
		kind  string
		ids   [4]pgtype.Int8
		times [7]pgtype.Timestamptz
	)
	account, user, createdBy, tp := &ids[0], &ids[1], &ids[2], &ids[3]
	expires, lastUsed, created, upd, rotated, disabled, enabled :=
		&times[0], &times[1], &times[2], &times[3], &times[4], &times[5], &times[6]
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
	err := s.q().QueryRow(ctx, `
		INSERT INTO tokens (kind, account_id, user_id, created_by, uid, name, hash, slow_hash, legacy_format, state,
			expires_at, last_used_at, last_used_ip, created_at, updated_at, trust_policy_id, rotated_from, first_use_overlap)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		string(t.Kind), nullID(t.AccountID), nullID(t.UserID), nullID(t.CreatedBy), t.UID, t.Name, hashArg(t.Hash),
		t.SlowHash, t.LegacyFormat, int(t.State), ts(t.ExpiresAt), ts(t.LastUsedAt), t.LastUsedIP,
		ts(t.CreatedAt), ts(t.UpdatedAt), nullID(t.TrustPolicyID), nullID(t.RotatedFrom),
		nullSeconds(t.FirstUseOverlap)).Scan(&t.ID)
	return translate(err)
}

func (s *Store) tokenWhere(ctx context.Context, where string, args ...any) (*tokend.Token, error) {
	t, err := scanToken(s.q().QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE `+where, args...))
	if err != nil {
		return nil, translateNotFound(err, "Token")
	}
	if err := s.loadTokenPermissions(ctx, []*tokend.Token{t}); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Store) Token(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `account_id = $1 AND id = $2`, accountID, id)
}

func (s *Store) TokenUnscoped(ctx context.Context, id tokend.TokenID) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `id = $1`, id)
}

func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `hash = $1`, hash)
}

func (s *Store) TokenByUID(ctx context.Context, accountID tokend.AccountID, uid string) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `account_id = $1 AND uid = $2`, accountID, uid)
}

func (s *Store) TokenByUIDUnscoped(ctx context.Context, uid string) (*tokend.Token, error) {
	return s.tokenWhere(ctx, `uid = $1`, uid)
}

// scanFunc adapts a function to the Scan of a row.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

func (s *Store) TokenHashes(ctx context.Context, fn func([]byte)) error {
	rows, err := s.q().Query(ctx, `SELECT hash FROM tokens WHERE hash IS NOT NULL`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var h []byte // scanned, not raw: a query mode without binary results sends text
	for rows.Next() {
		if err := rows.Scan(&h); err != nil {
			return translate(err)
		}
		fn(h)
	}
	return translate(rows.Err())
}

func (s *Store) UpdateToken(ctx context.Context, accountID tokend.AccountID, t *tokend.Token) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE tokens SET name = $1, hash = $2, slow_hash = $3, legacy_format = $4, state = $5, expires_at = $6,
			updated_at = $7, disabled_at = $8, enabled_at = $9
		WHERE id = $10 AND account_id IS NOT DISTINCT FROM $11`,
		t.Name, hashArg(t.Hash), t.SlowHash, t.LegacyFormat, int(t.State), ts(t.ExpiresAt),
		ts(t.UpdatedAt), ts(t.DisabledAt), ts(t.EnabledAt), t.ID, nullID(accountID))
	return affected(tag, err, "Token")
}

func (s *Store) ListTokens(ctx context.Context, f tokend.TokenFilter) ([]*tokend.Token, int, error) {
	var w where
	w.add(`kind = $%d`, string(f.Kind))
	if f.AccountID != 0 {
		w.add(`account_id = $%d`, f.AccountID)
	}
	if f.UserID != 0 {
		w.add(`user_id = $%d`, f.UserID)
	}
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	if !f.LastUsedBefore.IsZero() {
		// A token never used counts as used before any time.
		w.add(`(last_used_at IS NULL OR last_used_at < $%d)`, ts(f.LastUsedBefore))
	}
	if !f.LastUsedAfter.IsZero() {
		w.add(`last_used_at > $%d`, ts(f.LastUsedAfter))
	}
	if !f.ExpiresBefore.IsZero() {
		w.add(`expires_at < $%d`, ts(f.ExpiresBefore))
	}
	if f.Federated {
		w.add(`(trust_policy_id IS NOT NULL) = $%d`, true)
	}
	if f.Search != "" {
		w.add(`(strpos(lower(name), lower($%[1]d)) > 0 OR starts_with(uid, $%[1]d))`, f.Search)
	}
	if f.NeverUsed {
		w.and(`last_used_at IS NULL`)
	}
	if f.Disabled {
		w.and(`disabled_at IS NOT NULL`)
	}
	if !f.IdleBefore.IsZero() {
		w.add(`coalesce(last_used_at, created_at) < $%d`, ts(f.IdleBefore))
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM tokens WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE `+w.conds+orderBy(f.Order, tokenOrderColumn, "id")+limit, args...)
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

// loadTokenPermissions fills in the grants of the service tokens in ts in one query.
func (s *Store) loadTokenPermissions(ctx context.Context, ts []*tokend.Token) error {
	byID := make(map[tokend.TokenID]*tokend.Token, len(ts))
	var ids []int64
	for _, t := range ts {
		if t.Kind == tokend.KindService {
			byID[t.ID] = t
			ids = append(ids, int64(t.ID))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.q().Query(ctx, `
		SELECT id, token_id, permission_set, all_projects, project_id, writable_environment_categories
		FROM token_permissions WHERE token_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return translate(err)
	}
	grants, err := collect(rows, scanGrant)
	if err != nil {
		return err
	}
	for _, r := range grants {
		t := byID[tokend.TokenID(r.owner)]
		t.Permissions = append(t.Permissions, tokend.TokenPermission{ID: r.id, Grant: r.grant})
	}
	return nil
}

func (s *Store) SetTokenPermissions(ctx context.Context, accountID tokend.AccountID, tokenID tokend.TokenID, grants []perm.Grant) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		q := tx.(*Store).tx
		if err := takeGrantsTurn(ctx, q); err != nil {
			return err
		}
		// The row lock makes concurrent replacements of one token's grants take turns.
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM tokens WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE`, accountID, tokenID).Scan(&one); err != nil {
			return translateNotFound(err, "Token")
		}
		if _, err := q.Exec(ctx, `DELETE FROM token_permissions WHERE token_id = $1`, tokenID); err != nil {
			return translate(err)
		}
		if len(grants) == 0 {
			return nil
		}
		_, err := q.CopyFrom(ctx, pgx.Identifier{"token_permissions"},
			append([]string{"token_id"}, grantColumns...),
			copyGrants([]any{tokenID}, grants))
		return translate(err)
	})
}

func (s *Store) RecordTokenUses(ctx context.Context, uses []tokend.TokenUse) error {
	ids := make([]int64, 0, len(uses))
	ats := make([]time.Time, 0, len(uses))
	ips := make([]string, 0, len(uses))
	for _, u := range uses {
		if u.At.IsZero() {
			continue // not a use
		}
		ids = append(ids, int64(u.TokenID))
		ats = append(ats, u.At.Truncate(time.Microsecond))
		ips = append(ips, u.IP)
	}
	if len(ids) == 0 {
		return nil
	}
	// DISTINCT ON keeps the latest use of each token in the batch: UPDATE … FROM would apply an
	// arbitrary one of several matching rows.
	_, err := s.q().Exec(ctx, `
		UPDATE tokens t SET last_used_at = u.at, last_used_ip = u.ip, first_used_at = coalesce(t.first_used_at, u.at)
		FROM (
			SELECT DISTINCT ON (id) id, at, ip
			FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS x(id, at, ip)
			ORDER BY id, at DESC
		) u
		WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`, ids, ats, ips)
	return translate(err)
}

func (s *Store) MarkTokenRotated(ctx context.Context, accountID tokend.AccountID, id tokend.TokenID, at time.Time) error {
	// The row lock makes a concurrent second rotation wait, then find rotated_at set.
	tag, err := s.q().Exec(ctx, `UPDATE tokens SET rotated_at = $1 WHERE account_id = $2 AND id = $3 AND rotated_at IS NULL`,
		ts(at), accountID, id)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.Token(ctx, accountID, id); err != nil {
			return err
		}
		return tokend.Errorf(tokend.EConflict, "Token %d has been rotated already.", id)
	}
	return nil
}
