package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/internal/verifyrow"
	"tokend/perm"
)

// The verification of a token not in the cache reads one row: the token's fields that
// verifying it reads, for a PAT its user's membership in the token's account, and its grants,
// packed as verifyrow describes. The grants are read from the verify_grants column of the
// token (a service token's own) or of the membership (a PAT's user's active groups), which
// the database keeps current (migration 00029): joining and packing the grants of groups at
// each first use took about half the statement's time. The fields come as columns, not
// packed: packing times as text costs the server more than scanning them costs pgx.

// verifyQuery reads a token by hash with what verifying it needs.
const verifyQuery = `
	SELECT t.id, t.kind, t.account_id, t.user_id, t.uid, t.state, t.expires_at, t.last_used_at,
		t.created_at, t.rotated_at, t.disabled_at, t.enabled_at, m.license_type, m.state,
		CASE t.kind WHEN 'service' THEN t.verify_grants WHEN 'pat' THEN m.verify_grants END
	FROM tokens t
	LEFT JOIN memberships m ON t.kind = 'pat' AND m.account_id = t.account_id AND m.user_id = t.user_id
	WHERE t.hash = $1`

// verifyRow holds TokenForVerify's scan destinations, in one allocation.
type verifyRow struct {
	id, state                  int64
	kind, uid                  string
	account, user              pgtype.Int8
	expires, lastUsed, created pgtype.Timestamptz
	rotated, disabled, enabled pgtype.Timestamptz
	license, grants            pgtype.Text
	memberState                pgtype.Int8
}

func (s *Store) TokenForVerify(ctx context.Context, hash []byte) (*tokend.Token, *tokend.MemberAccess, error) {
	r := new(verifyRow)
	err := s.q().QueryRow(ctx, verifyQuery, hash).Scan(&r.id, &r.kind, &r.account, &r.user, &r.uid, &r.state,
		&r.expires, &r.lastUsed, &r.created, &r.rotated, &r.disabled, &r.enabled, &r.license, &r.memberState, &r.grants)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, notFound("Token")
		}
		return nil, nil, translate(err)
	}
	t := &tokend.Token{
		ID: tokend.TokenID(r.id), Kind: tokend.TokenKind(r.kind), AccountID: tokend.AccountID(r.account.Int64),
		UserID: tokend.UserID(r.user.Int64), UID: r.uid, State: tokend.State(r.state),
		ExpiresAt: fromTS(r.expires), LastUsedAt: fromTS(r.lastUsed), CreatedAt: fromTS(r.created),
		RotatedAt: fromTS(r.rotated), DisabledAt: fromTS(r.disabled), EnabledAt: fromTS(r.enabled),
	}
	var access *tokend.MemberAccess
	if t.Kind == tokend.KindPAT {
		// A membership's state is never NULL: NULL is no membership.
		access = &tokend.MemberAccess{Member: r.memberState.Valid, License: perm.License(r.license.String),
			State: tokend.State(r.memberState.Int64)}
	}
	if err := verifyrow.DecodeGrants(r.grants.String, t, access); err != nil {
		return nil, nil, err
	}
	return t, access, nil
}

// takeGrantsTurn takes, for the rest of the transaction, the turn that writes of the tables
// behind the verify_grants columns take (migration 00029): before a row lock, so that a
// method that locks a row and then writes grants cannot wait on a plain write of that row
// while it waits on the method.
func takeGrantsTurn(ctx context.Context, q pgx.Tx) error {
	_, err := q.Exec(ctx, `SELECT verify_grants_take_turn()`)
	return translate(err)
}
