package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const deviceCols = `id, device_hash, user_code_hash, client_id, device_name, ip, user_agent, state, user_id, account_id, token_id,
	interval_s, last_polled_at, created_at, expires_at`

func scanDevice(row scanner) (*tokend.DeviceAuthorization, error) {
	var (
		d                        tokend.DeviceAuthorization
		state                    string
		user, account, token     pgtype.Int8
		interval                 int64
		polled, created, expires pgtype.Timestamptz
	)
	if err := row.Scan(&d.ID, &d.DeviceHash, &d.UserCodeHash, &d.ClientID, &d.DeviceName, &d.IP, &d.UserAgent, &state,
		&user, &account, &token, &interval, &polled, &created, &expires); err != nil {
		return nil, err
	}
	d.State = tokend.DeviceState(state)
	d.UserID, d.AccountID, d.TokenID = tokend.UserID(user.Int64), tokend.AccountID(account.Int64), tokend.TokenID(token.Int64)
	d.Interval = time.Duration(interval) * time.Second
	d.LastPolledAt, d.CreatedAt, d.ExpiresAt = fromTS(polled), fromTS(created), fromTS(expires)
	return &d, nil
}

func (s *Store) CreateDeviceAuthorization(ctx context.Context, d *tokend.DeviceAuthorization) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO device_authorizations (device_hash, user_code_hash, client_id, device_name, ip, user_agent, state,
			user_id, account_id, token_id, interval_s, last_polled_at, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		d.DeviceHash, d.UserCodeHash, d.ClientID, d.DeviceName, d.IP, d.UserAgent, string(d.State),
		nullID(d.UserID), nullID(d.AccountID), nullID(d.TokenID), int64(d.Interval/time.Second), ts(d.LastPolledAt),
		ts(d.CreatedAt), ts(d.ExpiresAt)).Scan(&d.ID)
	return translate(err)
}

func (s *Store) deviceWhere(ctx context.Context, where string, arg any) (*tokend.DeviceAuthorization, error) {
	d, err := scanDevice(s.q().QueryRow(ctx, `SELECT `+deviceCols+` FROM device_authorizations WHERE `+where, arg))
	if err != nil {
		return nil, translateNotFound(err, "Device authorization")
	}
	return d, nil
}

func (s *Store) DeviceAuthorizationByDeviceHash(ctx context.Context, hash []byte) (*tokend.DeviceAuthorization, error) {
	return s.deviceWhere(ctx, `device_hash = $1`, hash)
}

func (s *Store) DeviceAuthorizationByUserHash(ctx context.Context, hash []byte) (*tokend.DeviceAuthorization, error) {
	return s.deviceWhere(ctx, `user_code_hash = $1`, hash)
}

func (s *Store) UpdateDeviceAuthorization(ctx context.Context, d *tokend.DeviceAuthorization, prev tokend.DeviceState) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE device_authorizations SET state = $1, user_id = $2, account_id = $3, token_id = $4, interval_s = $5,
			last_polled_at = $6
		WHERE id = $7 AND state = $8`,
		string(d.State), nullID(d.UserID), nullID(d.AccountID), nullID(d.TokenID), int64(d.Interval/time.Second),
		ts(d.LastPolledAt), d.ID, string(prev))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var one int
	if err := s.q().QueryRow(ctx, `SELECT 1 FROM device_authorizations WHERE id = $1`, d.ID).Scan(&one); err != nil {
		return translateNotFound(err, "Device authorization")
	}
	return &tokend.Error{Code: tokend.EConflict, Message: "The device authorization changed meanwhile."}
}

func (s *Store) DeleteExpiredDeviceAuthorizations(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM device_authorizations WHERE expires_at <= $1`, ts(now))
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}
