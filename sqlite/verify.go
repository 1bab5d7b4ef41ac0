package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"tokend"
	"tokend/internal/verifyrow"
)

// The verification of a token not in the cache reads one row of two text columns: the fields
// of the token that verifying it reads (with, for a PAT, its user's membership in the token's
// account), and its grants (a service token's own, or those of the PAT's user's active groups
// in the account), each packed as verifyrow describes. The driver builds two strings for each
// column of every query it runs (its name and declared type): a column per field and a row
// per grant came to 28 columns and 2–3 rows.

// packed is the SQL expression of exprs joined by verifyrow.Unit; none may be NULL.
func packed(exprs ...string) string {
	return strings.Join(exprs, " || char(31) || ")
}

// verifyGrants is the aggregate that packs grant rows p (of group_permissions or
// token_permissions).
var verifyGrants = `group_concat(` + packed("p.id", "p.permission_set", "p.all_projects",
	"coalesce(p.project_id, '')", "p.writable_environment_categories") + `, char(30) ORDER BY p.id)`

// verifyQuery reads a token by hash with what verifying it needs, in verifyrow's order.
var verifyQuery = `
	SELECT ` + packed("t.id", "t.kind", "coalesce(t.account_id, '')", "coalesce(t.user_id, '')", "t.uid", "t.state",
	"coalesce(t.expires_at, '')", "coalesce(t.last_used_at, '')", "t.created_at", "coalesce(t.rotated_at, '')",
	"coalesce(t.disabled_at, '')", "coalesce(t.enabled_at, '')", "coalesce(m.license_type, '')", "coalesce(m.state, '')") + ` AS token,
		CASE t.kind
		WHEN 'service' THEN (SELECT ` + verifyGrants + ` FROM token_permissions p WHERE p.token_id = t.id)
		WHEN 'pat' THEN (SELECT ` + verifyGrants + ` FROM group_members gm
			JOIN account_groups g ON g.id = gm.group_id AND g.account_id = t.account_id AND g.state = 1
			JOIN group_permissions p ON p.group_id = g.id
			WHERE gm.account_id = t.account_id AND gm.user_id = t.user_id)
		END AS grants
	FROM tokens t
	LEFT JOIN memberships m ON t.kind = 'pat' AND m.account_id = t.account_id AND m.user_id = t.user_id
	WHERE t.hash = ?`

// verifyRow holds TokenForVerify's scan destinations, in one allocation.
type verifyRow struct {
	token  string
	grants sql.NullString
}

func (s *Store) TokenForVerify(ctx context.Context, hash []byte) (*tokend.Token, *tokend.MemberAccess, error) {
	r := new(verifyRow)
	if err := s.reader().QueryRowContext(ctx, verifyQuery, hash).Scan(&r.token, &r.grants); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, notFound("Token")
		}
		return nil, nil, translate(err)
	}
	return verifyrow.Decode(r.token, r.grants.String)
}
