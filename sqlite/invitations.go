package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"tokend"
	"tokend/perm"
)

const invitationCols = `id, account_id, email, license_type, group_ids, state, invited_by, redeemed_by,
	created_at, updated_at, expires_at, redeemed_at`

func scanInvitation(row interface{ Scan(...any) error }) (*tokend.Invitation, error) {
	var (
		i                                  tokend.Invitation
		license, groups                    string
		invitedBy, redeemedBy              sql.NullInt64
		created, updated, expires, redeemd sql.NullInt64
	)
	if err := row.Scan(&i.ID, &i.AccountID, &i.Email, &license, &groups, &i.State, &invitedBy, &redeemedBy,
		&created, &updated, &expires, &redeemd); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(groups), &i.GroupIDs); err != nil {
		return nil, err
	}
	i.License = perm.License(license)
	i.InvitedBy, i.RedeemedBy = tokend.UserID(invitedBy.Int64), tokend.UserID(redeemedBy.Int64)
	i.CreatedAt, i.UpdatedAt, i.ExpiresAt, i.RedeemedAt = fromTS(created), fromTS(updated), fromTS(expires), fromTS(redeemd)
	return &i, nil
}

func encodeIDs[ID ~int64](ids []ID) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids) // a slice of integers always marshals
	return string(b)
}

func (s *Store) CreateInvitation(ctx context.Context, i *tokend.Invitation) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO invitations (account_id, email, license_type, group_ids, state, invited_by, redeemed_by,
			created_at, updated_at, expires_at, redeemed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		i.AccountID, i.Email, string(i.License), encodeIDs(i.GroupIDs), int(i.State), nullID(i.InvitedBy),
		nullID(i.RedeemedBy), ts(i.CreatedAt), ts(i.UpdatedAt), ts(i.ExpiresAt), ts(i.RedeemedAt)).Scan(&i.ID)
	return translate(err)
}

func (s *Store) Invitation(ctx context.Context, accountID tokend.AccountID, id tokend.InvitationID) (*tokend.Invitation, error) {
	i, err := scanInvitation(s.reader().QueryRowContext(ctx,
		`SELECT `+invitationCols+` FROM invitations WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Invitation")
	}
	return i, nil
}

func (s *Store) UpdateInvitation(ctx context.Context, i *tokend.Invitation) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE invitations SET license_type = ?, group_ids = ?, state = ?, expires_at = ?, redeemed_by = ?,
			redeemed_at = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		string(i.License), encodeIDs(i.GroupIDs), int(i.State), ts(i.ExpiresAt), nullID(i.RedeemedBy),
		ts(i.RedeemedAt), ts(i.UpdatedAt), i.AccountID, i.ID)
	return affected(res, err, "Invitation")
}

func (s *Store) ListInvitations(ctx context.Context, f tokend.InvitationFilter) ([]*tokend.Invitation, int, error) {
	where, args := `1 = 1`, []any{}
	if f.AccountID != 0 {
		where += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.Email != "" {
		where += ` AND email = ?`
		args = append(args, f.Email)
	}
	if f.State != 0 {
		where += ` AND state = ?`
		args = append(args, int(f.State))
	}
	if f.AccountID == 0 && f.Email == "" {
		return nil, 0, tokend.Errorf(tokend.EInternal, "invitations: list by account or e-mail")
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM invitations WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+invitationCols+` FROM invitations WHERE `+where+
		` ORDER BY id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	out, err := collect(rows, scanInvitation)
	return out, total, err
}
