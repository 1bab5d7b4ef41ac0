package sqlite

import (
	"context"
	"database/sql"
	"time"

	"tokend"
)

const deviceCols = `id, device_hash, user_code_hash, client_id, device_name, ip, user_agent, state, user_id, account_id, token_id,
	interval_s, last_polled_at, created_at, expires_at`

func scanDevice(row interface{ Scan(...any) error }) (*tokend.DeviceAuthorization, error) {
	var (
		d                        tokend.DeviceAuthorization
		state                    string
		user, account, token     sql.NullInt64
		interval                 int64
		polled, created, expires sql.NullInt64
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
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO device_authorizations (device_hash, user_code_hash, client_id, device_name, ip, user_agent, state,
			user_id, account_id, token_id, interval_s, last_polled_at, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.DeviceHash, d.UserCodeHash, d.ClientID, d.DeviceName, d.IP, d.UserAgent, string(d.State),
		nullID(d.UserID), nullID(d.AccountID), nullID(d.TokenID), int64(d.Interval/time.Second), ts(d.LastPolledAt),
		ts(d.CreatedAt), ts(d.ExpiresAt)).Scan(&d.ID)
	return translate(err)
}

func (s *Store) deviceWhere(ctx context.Context, where string, arg any) (*tokend.DeviceAuthorization, error) {
	d, err := scanDevice(s.reader().QueryRowContext(ctx, `SELECT `+deviceCols+` FROM device_authorizations WHERE `+where, arg))
	if err != nil {
		return nil, translateNotFound(err, "Device authorization")
	}
	return d, nil
}

func (s *Store) DeviceAuthorizationByDeviceHash(ctx context.Context, hash []byte) (*tokend.DeviceAuthorization, error) {
	return s.deviceWhere(ctx, `device_hash = ?`, hash)
}

func (s *Store) DeviceAuthorizationByUserHash(ctx context.Context, hash []byte) (*tokend.DeviceAuthorization, error) {
	return s.deviceWhere(ctx, `user_code_hash = ?`, hash)
}

func (s *Store) UpdateDeviceAuthorization(ctx context.Context, d *tokend.DeviceAuthorization, prev tokend.DeviceState) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE device_authorizations SET state = ?, user_id = ?, account_id = ?, token_id = ?, interval_s = ?, last_polled_at = ?
		WHERE id = ? AND state = ?`,
		string(d.State), nullID(d.UserID), nullID(d.AccountID), nullID(d.TokenID), int64(d.Interval/time.Second),
		ts(d.LastPolledAt), d.ID, string(prev))
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return translate(err)
	}
	var one int
	if err := s.writer().QueryRowContext(ctx, `SELECT 1 FROM device_authorizations WHERE id = ?`, d.ID).Scan(&one); err != nil {
		return translateNotFound(err, "Device authorization")
	}
	return &tokend.Error{Code: tokend.EConflict, Message: "The device authorization changed meanwhile."}
}

func (s *Store) DeleteExpiredDeviceAuthorizations(ctx context.Context, now time.Time) (int, error) {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM device_authorizations WHERE expires_at <= ?`, ts(now))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
