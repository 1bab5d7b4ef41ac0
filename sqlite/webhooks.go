package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"tokend"
)

const webhookEndpointCols = `id, account_id, url, description, events, secret, previous_secret, previous_until, disabled,
	created_by, created_at, updated_at`

func scanWebhookEndpoint(row interface{ Scan(...any) error }) (*tokend.WebhookEndpoint, error) {
	var (
		w                  tokend.WebhookEndpoint
		events             string
		prev, created, upd sql.NullInt64
		createdBy          sql.NullInt64
	)
	if err := row.Scan(&w.ID, &w.AccountID, &w.URL, &w.Description, &events, &w.Secret, &w.PreviousSecret, &prev,
		&w.Disabled, &createdBy, &created, &upd); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, err
	}
	w.PreviousUntil, w.CreatedAt, w.UpdatedAt = fromTS(prev), fromTS(created), fromTS(upd)
	w.CreatedBy = tokend.UserID(createdBy.Int64)
	return &w, nil
}

func encodeEvents(events []string) string {
	if events == nil {
		events = []string{}
	}
	b, _ := json.Marshal(events) // a list of strings always marshals
	return string(b)
}

func (s *Store) CreateWebhookEndpoint(ctx context.Context, w *tokend.WebhookEndpoint) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO webhook_endpoints (account_id, url, description, events, secret, previous_secret, previous_until,
			disabled, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		w.AccountID, w.URL, w.Description, encodeEvents(w.Events), w.Secret, w.PreviousSecret, ts(w.PreviousUntil),
		boolInt(w.Disabled), nullID(w.CreatedBy), ts(w.CreatedAt), ts(w.UpdatedAt)).Scan(&w.ID)
	return translate(err)
}

func (s *Store) WebhookEndpoint(ctx context.Context, accountID tokend.AccountID, id tokend.WebhookID) (*tokend.WebhookEndpoint, error) {
	w, err := scanWebhookEndpoint(s.reader().QueryRowContext(ctx,
		`SELECT `+webhookEndpointCols+` FROM webhook_endpoints WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Webhook")
	}
	return w, nil
}

func (s *Store) ListWebhookEndpoints(ctx context.Context, accountID tokend.AccountID) ([]*tokend.WebhookEndpoint, error) {
	rows, err := s.reader().QueryContext(ctx,
		`SELECT `+webhookEndpointCols+` FROM webhook_endpoints WHERE account_id = ? ORDER BY id`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanWebhookEndpoint)
}

func (s *Store) UpdateWebhookEndpoint(ctx context.Context, w *tokend.WebhookEndpoint) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, secret = ?, previous_secret = ?,
			previous_until = ?, disabled = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		w.URL, w.Description, encodeEvents(w.Events), w.Secret, w.PreviousSecret, ts(w.PreviousUntil),
		boolInt(w.Disabled), ts(w.UpdatedAt), w.AccountID, w.ID)
	return affected(res, err, "Webhook")
}

func (s *Store) DeleteWebhookEndpoint(ctx context.Context, accountID tokend.AccountID, id tokend.WebhookID) error {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE account_id = ? AND id = ?`, accountID, id)
	return affected(res, err, "Webhook")
}

const webhookMessageCols = `id, uid, account_id, endpoint_id, event, payload, state, attempts, next_attempt_at, retry_until,
	claimed_until, lease, last_status, last_error, created_at, updated_at`

func scanWebhookMessage(row interface{ Scan(...any) error }) (*tokend.WebhookMessage, error) {
	var (
		m                                  tokend.WebhookMessage
		next, until, claimed, created, upd sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.UID, &m.AccountID, &m.EndpointID, &m.Event, &m.Payload, &m.State, &m.Attempts, &next,
		&until, &claimed, &m.Lease, &m.LastStatus, &m.LastError, &created, &upd); err != nil {
		return nil, err
	}
	m.NextAttemptAt, m.RetryUntil, m.ClaimedUntil = fromTS(next), fromTS(until), fromTS(claimed)
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(upd)
	return &m, nil
}

func (s *Store) CreateWebhookMessages(ctx context.Context, ms []*tokend.WebhookMessage) error {
	for _, m := range ms {
		err := s.writer().QueryRowContext(ctx, `
			INSERT INTO webhook_messages (uid, account_id, endpoint_id, event, payload, state, attempts, next_attempt_at,
				retry_until, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.UID, m.AccountID, m.EndpointID, m.Event, m.Payload, m.State, m.Attempts, ts(m.NextAttemptAt),
			ts(m.RetryUntil), ts(m.CreatedAt), ts(m.UpdatedAt)).Scan(&m.ID)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// ClaimWebhookMessages claims with one conditional UPDATE on the one writer connection: a
// second claim runs after the first has committed and no longer sees its messages as free.
func (s *Store) ClaimWebhookMessages(ctx context.Context, now, until time.Time, lease int64, limit int) ([]*tokend.WebhookMessage, error) {
	rows, err := s.writer().QueryContext(ctx, `
		UPDATE webhook_messages SET claimed_until = ?, lease = ?
		WHERE id IN (
			SELECT id FROM webhook_messages
			WHERE state = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
			ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+webhookMessageCols,
		ts(until), lease, ts(now), ts(now), limit)
	if err != nil {
		return nil, translate(err)
	}
	ms, err := collect(rows, scanWebhookMessage)
	if err != nil {
		return nil, err
	}
	// RETURNING keeps no order.
	slices.SortFunc(ms, func(a, b *tokend.WebhookMessage) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return ms, nil
}

func (s *Store) RecordWebhookAttempt(ctx context.Context, m *tokend.WebhookMessage, a *tokend.WebhookAttempt) error {
	lost := false
	err := s.Tx(ctx, func(tx tokend.Store) error {
		q := tx.(*Store).writer()
		if err := q.QueryRowContext(ctx, `
			INSERT INTO webhook_attempts (message_id, endpoint_id, account_id, attempt, at, status_code, duration_us, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.MessageID, a.EndpointID, a.AccountID, a.Attempt, ts(a.At), a.StatusCode, a.Duration.Microseconds(),
			a.Error).Scan(&a.ID); err != nil {
			return translate(err)
		}
		res, err := q.ExecContext(ctx, `
			UPDATE webhook_messages SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
				updated_at = ?, claimed_until = NULL
			WHERE id = ? AND lease = ? AND claimed_until IS NOT NULL`,
			m.State, m.Attempts, ts(m.NextAttemptAt), m.LastStatus, m.LastError, ts(m.UpdatedAt), m.ID, m.Lease)
		if err != nil {
			return translate(err)
		}
		n, err := res.RowsAffected()
		lost = n == 0
		return translate(err)
	})
	if err == nil && lost {
		return notFound("Claimed webhook message")
	}
	return err
}

func (s *Store) WebhookMessage(ctx context.Context, accountID tokend.AccountID, endpointID tokend.WebhookID, id int64) (*tokend.WebhookMessage, error) {
	m, err := scanWebhookMessage(s.reader().QueryRowContext(ctx, `SELECT `+webhookMessageCols+` FROM webhook_messages
		WHERE account_id = ? AND endpoint_id = ? AND id = ?`, accountID, endpointID, id))
	if err != nil {
		return nil, translateNotFound(err, "Delivery")
	}
	return m, nil
}

func (s *Store) ListWebhookMessages(ctx context.Context, f tokend.WebhookMessageFilter) ([]*tokend.WebhookMessage, int, error) {
	where, args := `account_id = ? AND endpoint_id = ?`, []any{f.AccountID, f.EndpointID}
	if f.State != "" {
		where += ` AND state = ?`
		args = append(args, f.State)
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM webhook_messages WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+webhookMessageCols+` FROM webhook_messages WHERE `+where+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ms, err := collect(rows, scanWebhookMessage)
	if err != nil {
		return nil, 0, err
	}
	return ms, total, nil
}

func (s *Store) WebhookAttempts(ctx context.Context, accountID tokend.AccountID, messageID int64) ([]*tokend.WebhookAttempt, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT id, message_id, endpoint_id, account_id, attempt, at, status_code, duration_us, error
		FROM webhook_attempts WHERE account_id = ? AND message_id = ? ORDER BY id`, accountID, messageID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (*tokend.WebhookAttempt, error) {
		var (
			a   tokend.WebhookAttempt
			at  sql.NullInt64
			dur int64
		)
		if err := r.Scan(&a.ID, &a.MessageID, &a.EndpointID, &a.AccountID, &a.Attempt, &at, &a.StatusCode, &dur, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromTS(at), time.Duration(dur)*time.Microsecond
		return &a, nil
	})
}

func (s *Store) RequeueWebhookMessage(ctx context.Context, m *tokend.WebhookMessage, now time.Time) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE webhook_messages SET state = ?, next_attempt_at = ?, retry_until = ?, updated_at = ?
		WHERE account_id = ? AND endpoint_id = ? AND id = ? AND (claimed_until IS NULL OR claimed_until <= ?)`,
		m.State, ts(m.NextAttemptAt), ts(m.RetryUntil), ts(m.UpdatedAt), m.AccountID, m.EndpointID, m.ID, ts(now))
	if err := affected(res, err, "Delivery"); tokend.ErrorCode(err) == tokend.ENotFound {
		return &tokend.Error{Code: tokend.EConflict, Message: "The message is being sent right now; try again in a moment."}
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Store) DeleteWebhookMessages(ctx context.Context, before time.Time) (int, error) {
	res, err := s.writer().ExecContext(ctx, `DELETE FROM webhook_messages WHERE state <> 'pending' AND created_at < ?`, ts(before))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

func (s *Store) TokensForNotice(ctx context.Context, f tokend.NoticeFilter) ([]*tokend.Token, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT `+prefixed("t", tokenCols)+` FROM tokens t JOIN accounts a ON a.id = t.account_id
		WHERE t.expires_at > ? AND t.expires_at <= ? AND t.expires_at - t.created_at > ?
			AND a.state = 1 AND t.state = 1 AND t.disabled_at IS NULL AND t.trust_policy_id IS NULL
			AND t.kind IN ('pat', 'service')
			AND NOT EXISTS (SELECT 1 FROM token_notices n WHERE n.token_id = t.id AND n.event = ? AND n.threshold = ?)
		ORDER BY t.expires_at, t.id LIMIT ?`,
		ts(f.ExpiresAfter), ts(f.ExpiresBy), f.MinLifetime.Microseconds(), f.Event, f.Threshold, f.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanToken)
}

func (s *Store) AddTokenNotice(ctx context.Context, tokenID tokend.TokenID, event string, threshold int, at time.Time) (bool, error) {
	res, err := s.writer().ExecContext(ctx, `
		INSERT INTO token_notices (token_id, event, threshold, sent_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (token_id, event, threshold) DO NOTHING`, tokenID, event, threshold, ts(at))
	if err != nil {
		return false, translate(err)
	}
	n, err := res.RowsAffected()
	return n == 1, translate(err)
}

func (s *Store) AddTokenAddresses(ctx context.Context, as []tokend.TokenAddress) ([]tokend.TokenAddress, error) {
	var fresh []tokend.TokenAddress
	err := s.Tx(ctx, func(tx tokend.Store) error {
		q := tx.(*Store).writer()
		for _, a := range as {
			res, err := q.ExecContext(ctx, `
				INSERT INTO token_addresses (token_id, ip, first_seen)
				SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM tokens WHERE id = ?)
				ON CONFLICT (token_id, ip) DO NOTHING`, a.TokenID, a.IP, ts(a.FirstSeen), a.TokenID)
			if err != nil {
				return translate(err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return translate(err)
			} else if n == 1 {
				fresh = append(fresh, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}
