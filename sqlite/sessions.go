package sqlite

import (
	"context"
	"database/sql"
	"time"

	"tokend"
)

const sessionCols = `id, hash, user_id, account_id, csrf_secret, ip, user_agent, created_at, last_seen_at, expires_at`

func scanSession(row interface{ Scan(...any) error }) (*tokend.Session, error) {
	var (
		s                      tokend.Session
		account                sql.NullInt64
		created, seen, expires sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.Hash, &s.UserID, &account, &s.CSRFSecret, &s.IP, &s.UserAgent,
		&created, &seen, &expires); err != nil {
		return nil, err
	}
	s.AccountID = tokend.AccountID(account.Int64)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromTS(created), fromTS(seen), fromTS(expires)
	return &s, nil
}

func (s *Store) CreateSession(ctx context.Context, sess *tokend.Session) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO console_sessions (hash, user_id, account_id, csrf_secret, ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sess.Hash, sess.UserID, nullID(sess.AccountID), sess.CSRFSecret, sess.IP, sess.UserAgent,
		ts(sess.CreatedAt), ts(sess.LastSeenAt), ts(sess.ExpiresAt)).Scan(&sess.ID)
	return translate(err)
}

func (s *Store) SessionByHash(ctx context.Context, hash []byte) (*tokend.Session, error) {
	sess, err := scanSession(s.reader().QueryRowContext(ctx,
		`SELECT `+sessionCols+` FROM console_sessions WHERE hash = ?`, hash))
	if err != nil {
		return nil, translateNotFound(err, "Session")
	}
	return sess, nil
}

func (s *Store) TouchSession(ctx context.Context, id tokend.SessionID, lastSeen time.Time) error {
	res, err := s.writer().ExecContext(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE id = ?`, ts(lastSeen), id)
	return affected(res, err, "Session")
}

func (s *Store) SetSessionAccount(ctx context.Context, id tokend.SessionID, accountID tokend.AccountID) error {
	res, err := s.writer().ExecContext(ctx, `UPDATE console_sessions SET account_id = ? WHERE id = ?`, nullID(accountID), id)
	return affected(res, err, "Session")
}

func (s *Store) DeleteSession(ctx context.Context, id tokend.SessionID) error {
	_, err := s.writer().ExecContext(ctx, `DELETE FROM console_sessions WHERE id = ?`, id)
	return translate(err)
}

func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int, error) {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
		ts(now), ts(idleSince))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

func (s *Store) PutSessionFlash(ctx context.Context, sessionID tokend.SessionID, key string, sealed []byte, at time.Time) error {
	_, err := s.writer().ExecContext(ctx, `INSERT INTO session_flashes (session_id, key, sealed, created_at) VALUES (?, ?, ?, ?)`,
		sessionID, key, sealed, ts(at))
	return translate(err)
}

func (s *Store) TakeSessionFlash(ctx context.Context, sessionID tokend.SessionID, key string, since time.Time) ([]byte, error) {
	// Taking an old message deletes it too.
	var sealed []byte
	var fresh bool
	err := s.writer().QueryRowContext(ctx, `DELETE FROM session_flashes WHERE session_id = ? AND key = ? RETURNING sealed, created_at >= ?`,
		sessionID, key, ts(since)).Scan(&sealed, &fresh)
	if err != nil {
		return nil, translateNotFound(err, "Message")
	}
	if !fresh {
		return nil, notFound("Message")
	}
	return sealed, nil
}
