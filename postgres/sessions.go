package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const sessionCols = `id, hash, user_id, account_id, csrf_secret, ip, user_agent, created_at, last_seen_at, expires_at`

func scanSession(row scanner) (*tokend.Session, error) {
	var (
		s                      tokend.Session
		account                pgtype.Int8
		created, seen, expires pgtype.Timestamptz
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
	err := s.q().QueryRow(ctx, `
		INSERT INTO console_sessions (hash, user_id, account_id, csrf_secret, ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		sess.Hash, sess.UserID, nullID(sess.AccountID), sess.CSRFSecret, sess.IP, sess.UserAgent,
		ts(sess.CreatedAt), ts(sess.LastSeenAt), ts(sess.ExpiresAt)).Scan(&sess.ID)
	return translate(err)
}

func (s *Store) SessionByHash(ctx context.Context, hash []byte) (*tokend.Session, error) {
	sess, err := scanSession(s.q().QueryRow(ctx, `SELECT `+sessionCols+` FROM console_sessions WHERE hash = $1`, hash))
	if err != nil {
		return nil, translateNotFound(err, "Session")
	}
	return sess, nil
}

func (s *Store) TouchSession(ctx context.Context, id tokend.SessionID, lastSeen time.Time) error {
	tag, err := s.q().Exec(ctx, `UPDATE console_sessions SET last_seen_at = $1 WHERE id = $2`, ts(lastSeen), id)
	return affected(tag, err, "Session")
}

func (s *Store) SetSessionAccount(ctx context.Context, id tokend.SessionID, accountID tokend.AccountID) error {
	tag, err := s.q().Exec(ctx, `UPDATE console_sessions SET account_id = $1 WHERE id = $2`, nullID(accountID), id)
	return affected(tag, err, "Session")
}

func (s *Store) DeleteSession(ctx context.Context, id tokend.SessionID) error {
	_, err := s.q().Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, id)
	return translate(err)
}

func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at <= $2`,
		ts(now), ts(idleSince))
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *Store) PutSessionFlash(ctx context.Context, sessionID tokend.SessionID, key string, sealed []byte, at time.Time) error {
	_, err := s.q().Exec(ctx, `INSERT INTO session_flashes (session_id, key, sealed, created_at) VALUES ($1, $2, $3, $4)`,
		sessionID, key, sealed, ts(at))
	return translate(err)
}

func (s *Store) TakeSessionFlash(ctx context.Context, sessionID tokend.SessionID, key string, since time.Time) ([]byte, error) {
	// Taking an old message deletes it too.
	var sealed []byte
	var fresh bool
	err := s.q().QueryRow(ctx, `DELETE FROM session_flashes WHERE session_id = $1 AND key = $2 RETURNING sealed, created_at >= $3`,
		sessionID, key, ts(since)).Scan(&sealed, &fresh)
	if err != nil {
		return nil, translateNotFound(err, "Message")
	}
	if !fresh {
		return nil, notFound("Message")
	}
	return sealed, nil
}
