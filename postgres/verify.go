package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/internal/verifyrow"
)

// The verification of a token not in the cache reads one row of two text columns: the fields
// of the token that verifying it reads (with, for a PAT, its user's membership in the token's
// account), and its grants (a service token's own, or those of the PAT's user's active groups
// in the account), each packed as verifyrow describes. pgx plans the scan of every column of
// a row whose destinations differ from the previous row's: a column per field and a row per
// grant came to 27 columns, planned again for each grant row.

// packed is the SQL expression of exprs joined by verifyrow.Unit; none may be NULL.
func packed(exprs ...string) string {
	return strings.Join(exprs, " || chr(31) || ")
}

// micros is the text of the Unix microseconds of the TIMESTAMPTZ col; empty for NULL.
func micros(col string) string {
	return `coalesce((extract(epoch FROM ` + col + `) * 1000000)::bigint::text, '')`
}

// verifyGrants is the aggregate that packs grant rows p (of group_permissions or
// token_permissions).
var verifyGrants = `string_agg(` + packed("p.id::text", "p.permission_set", "p.all_projects::int::text",
	"coalesce(p.project_id::text, '')", "to_json(p.writable_environment_categories)::text") + `, chr(30) ORDER BY p.id)`

// verifyQuery reads a token by hash with what verifying it needs, in verifyrow's order.
var verifyQuery = `
	SELECT ` + packed("t.id::text", "t.kind", "coalesce(t.account_id::text, '')", "coalesce(t.user_id::text, '')", "t.uid",
	"t.state::text", micros("t.expires_at"), micros("t.last_used_at"), micros("t.created_at"), micros("t.rotated_at"),
	micros("t.disabled_at"), micros("t.enabled_at"), "coalesce(m.license_type, '')", "coalesce(m.state::text, '')") + ` AS token,
		CASE t.kind
		WHEN 'service' THEN (SELECT ` + verifyGrants + ` FROM token_permissions p WHERE p.token_id = t.id)
		WHEN 'pat' THEN (SELECT ` + verifyGrants + ` FROM group_members gm
			JOIN account_groups g ON g.id = gm.group_id AND g.account_id = t.account_id AND g.state = 1
			JOIN group_permissions p ON p.group_id = g.id
			WHERE gm.account_id = t.account_id AND gm.user_id = t.user_id)
		END AS grants
	FROM tokens t
	LEFT JOIN memberships m ON t.kind = 'pat' AND m.account_id = t.account_id AND m.user_id = t.user_id
	WHERE t.hash = $1`

// verifyRow holds TokenForVerify's scan destinations, in one allocation.
type verifyRow struct {
	token  string
	grants pgtype.Text
}

func (s *Store) TokenForVerify(ctx context.Context, hash []byte) (*tokend.Token, *tokend.MemberAccess, error) {
	r := new(verifyRow)
	if err := s.q().QueryRow(ctx, verifyQuery, hash).Scan(&r.token, &r.grants); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, notFound("Token")
		}
		return nil, nil, translate(err)
	}
	return verifyrow.Decode(r.token, r.grants.String)
}
