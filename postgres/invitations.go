package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

const invitationCols = `id, account_id, email, license_type, group_ids, state, invited_by, redeemed_by,
	created_at, updated_at, expires_at, redeemed_at`

func scanInvitation(row scanner) (*tokend.Invitation, error) {
	var (
		i                                  tokend.Invitation
		license                            string
		state                              int
		invitedBy, redeemedBy              pgtype.Int8
		created, updated, expires, redeemd pgtype.Timestamptz
	)
	if err := row.Scan(&i.ID, &i.AccountID, &i.Email, &license, &i.GroupIDs, &state, &invitedBy, &redeemedBy,
		&created, &updated, &expires, &redeemd); err != nil {
		return nil, err
	}
	if len(i.GroupIDs) == 0 {
		i.GroupIDs = nil
	}
	i.License, i.State = perm.License(license), tokend.InviteState(state)
	i.InvitedBy, i.RedeemedBy = tokend.UserID(invitedBy.Int64), tokend.UserID(redeemedBy.Int64)
	i.CreatedAt, i.UpdatedAt, i.ExpiresAt, i.RedeemedAt = fromTS(created), fromTS(updated), fromTS(expires), fromTS(redeemd)
	return &i, nil
}

// idsArg passes typed ids as a bigint[] (pgx encodes slices of built-in types only), never
// NULL.
func idsArg[ID ~int64](ids []ID) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

func (s *Store) CreateInvitation(ctx context.Context, i *tokend.Invitation) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO invitations (account_id, email, license_type, group_ids, state, invited_by, redeemed_by,
			created_at, updated_at, expires_at, redeemed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		i.AccountID, i.Email, string(i.License), idsArg(i.GroupIDs), int(i.State), nullID(i.InvitedBy),
		nullID(i.RedeemedBy), ts(i.CreatedAt), ts(i.UpdatedAt), ts(i.ExpiresAt), ts(i.RedeemedAt)).Scan(&i.ID)
	return translate(err)
}

func (s *Store) Invitation(ctx context.Context, accountID tokend.AccountID, id tokend.InvitationID) (*tokend.Invitation, error) {
	i, err := scanInvitation(s.q().QueryRow(ctx,
		`SELECT `+invitationCols+` FROM invitations WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Invitation")
	}
	return i, nil
}

func (s *Store) UpdateInvitation(ctx context.Context, i *tokend.Invitation) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE invitations SET license_type = $1, group_ids = $2, state = $3, expires_at = $4, redeemed_by = $5,
			redeemed_at = $6, updated_at = $7
		WHERE account_id = $8 AND id = $9`,
		string(i.License), idsArg(i.GroupIDs), int(i.State), ts(i.ExpiresAt), nullID(i.RedeemedBy),
		ts(i.RedeemedAt), ts(i.UpdatedAt), i.AccountID, i.ID)
	return affected(tag, err, "Invitation")
}

func (s *Store) ListInvitations(ctx context.Context, f tokend.InvitationFilter) ([]*tokend.Invitation, int, error) {
	if f.AccountID == 0 && f.Email == "" {
		return nil, 0, tokend.Errorf(tokend.EInternal, "invitations: list by account or e-mail")
	}
	var w where
	if f.AccountID != 0 {
		w.add(`account_id = $%d`, f.AccountID)
	}
	if f.Email != "" {
		w.add(`email = $%d`, f.Email)
	}
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM invitations WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+invitationCols+` FROM invitations WHERE `+w.conds+` ORDER BY id`+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	out, err := collect(rows, scanInvitation)
	return out, total, err
}
