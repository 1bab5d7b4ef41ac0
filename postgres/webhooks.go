package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const webhookEndpointCols = `id, account_id, url, description, events, secret, previous_secret, previous_until, disabled,
	created_by, created_at, updated_at`

func scanWebhookEndpoint(row scanner) (*tokend.WebhookEndpoint, error) {
	var (
		w                  tokend.WebhookEndpoint
		prev, created, upd pgtype.Timestamptz
		createdBy          pgtype.Int8
	)
	if err := row.Scan(&w.ID, &w.AccountID, &w.URL, &w.Description, &w.Events, &w.Secret, &w.PreviousSecret, &prev,
		&w.Disabled, &createdBy, &created, &upd); err != nil {
		return nil, err
	}
	w.Events = nilIfEmpty(w.Events)
	w.PreviousUntil, w.CreatedAt, w.UpdatedAt = fromTS(prev), fromTS(created), fromTS(upd)
	w.CreatedBy = tokend.UserID(createdBy.Int64)
	return &w, nil
}

func (s *Store) CreateWebhookEndpoint(ctx context.Context, w *tokend.WebhookEndpoint) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO webhook_endpoints (account_id, url, description, events, secret, previous_secret, previous_until,
			disabled, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		w.AccountID, w.URL, w.Description, texts(w.Events), w.Secret, w.PreviousSecret, ts(w.PreviousUntil),
		w.Disabled, nullID(w.CreatedBy), ts(w.CreatedAt), ts(w.UpdatedAt)).Scan(&w.ID)
	return translate(err)
}

func (s *Store) WebhookEndpoint(ctx context.Context, accountID tokend.AccountID, id tokend.WebhookID) (*tokend.WebhookEndpoint, error) {
	w, err := scanWebhookEndpoint(s.q().QueryRow(ctx,
		`SELECT `+webhookEndpointCols+` FROM webhook_endpoints WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Webhook")
	}
	return w, nil
}

func (s *Store) ListWebhookEndpoints(ctx context.Context, accountID tokend.AccountID) ([]*tokend.WebhookEndpoint, error) {
	rows, err := s.q().Query(ctx,
		`SELECT `+webhookEndpointCols+` FROM webhook_endpoints WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanWebhookEndpoint)
}

func (s *Store) UpdateWebhookEndpoint(ctx context.Context, w *tokend.WebhookEndpoint) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, secret = $4, previous_secret = $5,
			previous_until = $6, disabled = $7, updated_at = $8
		WHERE account_id = $9 AND id = $10`,
		w.URL, w.Description, texts(w.Events), w.Secret, w.PreviousSecret, ts(w.PreviousUntil), w.Disabled,
		ts(w.UpdatedAt), w.AccountID, w.ID)
	return affected(tag, err, "Webhook")
}

func (s *Store) DeleteWebhookEndpoint(ctx context.Context, accountID tokend.AccountID, id tokend.WebhookID) error {
	tag, err := s.q().Exec(ctx, `DELETE FROM webhook_endpoints WHERE account_id = $1 AND id = $2`, accountID, id)
	return affected(tag, err, "Webhook")
}

const webhookMessageCols = `id, uid, account_id, endpoint_id, event, payload, state, attempts, next_attempt_at, retry_until,
	claimed_until, lease, last_status, last_error, created_at, updated_at`

func scanWebhookMessage(row scanner) (*tokend.WebhookMessage, error) {
	var (
		m                                  tokend.WebhookMessage
		state                              string
		next, until, claimed, created, upd pgtype.Timestamptz
	)
	if err := row.Scan(&m.ID, &m.UID, &m.AccountID, &m.EndpointID, &m.Event, &m.Payload, &state, &m.Attempts, &next,
		&until, &claimed, &m.Lease, &m.LastStatus, &m.LastError, &created, &upd); err != nil {
		return nil, err
	}
	m.State = tokend.WebhookState(state)
	m.NextAttemptAt, m.RetryUntil, m.ClaimedUntil = fromTS(next), fromTS(until), fromTS(claimed)
	m.CreatedAt, m.UpdatedAt = fromTS(created), fromTS(upd)
	return &m, nil
}

func (s *Store) CreateWebhookMessages(ctx context.Context, ms []*tokend.WebhookMessage) error {
	for _, m := range ms {
		err := s.q().QueryRow(ctx, `
			INSERT INTO webhook_messages (uid, account_id, endpoint_id, event, payload, state, attempts, next_attempt_at,
				retry_until, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			m.UID, m.AccountID, m.EndpointID, m.Event, m.Payload, string(m.State), m.Attempts, ts(m.NextAttemptAt),
			ts(m.RetryUntil), ts(m.CreatedAt), ts(m.UpdatedAt)).Scan(&m.ID)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// ClaimWebhookMessages locks the due messages it picks (FOR UPDATE SKIP LOCKED), so that
// workers of other nodes claiming at the same moment pass over them instead of waiting, and
// once committed the claim keeps them from every later pick until it ends.
func (s *Store) ClaimWebhookMessages(ctx context.Context, now, until time.Time, lease int64, limit int) ([]*tokend.WebhookMessage, error) {
	rows, err := s.q().Query(ctx, `
		WITH due AS (
			SELECT id FROM webhook_messages
			WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
			ORDER BY next_attempt_at, id LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE webhook_messages m SET claimed_until = $3, lease = $4 FROM due WHERE m.id = due.id
		RETURNING `+prefixed("m", webhookMessageCols),
		ts(now), limit, ts(until), lease)
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
		q := tx.(*Store).tx
		if err := q.QueryRow(ctx, `
			INSERT INTO webhook_attempts (message_id, endpoint_id, account_id, attempt, at, status_code, duration_us, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.MessageID, a.EndpointID, a.AccountID, a.Attempt, ts(a.At), a.StatusCode, a.Duration.Microseconds(),
			a.Error).Scan(&a.ID); err != nil {
			return translate(err)
		}
		tag, err := q.Exec(ctx, `
			UPDATE webhook_messages SET state = $1, attempts = $2, next_attempt_at = $3, last_status = $4, last_error = $5,
				updated_at = $6, claimed_until = NULL
			WHERE id = $7 AND lease = $8 AND claimed_until IS NOT NULL`,
			string(m.State), m.Attempts, ts(m.NextAttemptAt), m.LastStatus, m.LastError, ts(m.UpdatedAt), m.ID, m.Lease)
		if err != nil {
			return translate(err)
		}
		lost = tag.RowsAffected() == 0
		return nil
	})
	if err == nil && lost {
		return notFound("Claimed webhook message")
	}
	return err
}

func (s *Store) WebhookMessage(ctx context.Context, accountID tokend.AccountID, endpointID tokend.WebhookID, id int64) (*tokend.WebhookMessage, error) {
	m, err := scanWebhookMessage(s.q().QueryRow(ctx, `SELECT `+webhookMessageCols+` FROM webhook_messages
		WHERE account_id = $1 AND endpoint_id = $2 AND id = $3`, accountID, endpointID, id))
	if err != nil {
		return nil, translateNotFound(err, "Delivery")
	}
	return m, nil
}

func (s *Store) ListWebhookMessages(ctx context.Context, f tokend.WebhookMessageFilter) ([]*tokend.WebhookMessage, int, error) {
	var w where
	w.add(`account_id = $%d`, f.AccountID)
	w.add(`endpoint_id = $%d`, f.EndpointID)
	if f.State != "" {
		w.add(`state = $%d`, string(f.State))
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM webhook_messages WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+webhookMessageCols+` FROM webhook_messages WHERE `+w.conds+` ORDER BY id DESC`+limit, args...)
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
	rows, err := s.q().Query(ctx, `
		SELECT id, message_id, endpoint_id, account_id, attempt, at, status_code, duration_us, error
		FROM webhook_attempts WHERE account_id = $1 AND message_id = $2 ORDER BY id`, accountID, messageID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r scanner) (*tokend.WebhookAttempt, error) {
		var (
			a   tokend.WebhookAttempt
			at  pgtype.Timestamptz
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
	tag, err := s.q().Exec(ctx, `
		UPDATE webhook_messages SET state = $1, next_attempt_at = $2, retry_until = $3, updated_at = $4
		WHERE account_id = $5 AND endpoint_id = $6 AND id = $7 AND (claimed_until IS NULL OR claimed_until <= $8)`,
		string(m.State), ts(m.NextAttemptAt), ts(m.RetryUntil), ts(m.UpdatedAt), m.AccountID, m.EndpointID, m.ID, ts(now))
	if err := affected(tag, err, "Delivery"); tokend.ErrorCode(err) == tokend.ENotFound {
		return &tokend.Error{Code: tokend.EConflict, Message: "The message is being sent right now; try again in a moment."}
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Store) DeleteWebhookMessages(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.q().Exec(ctx, `DELETE FROM webhook_messages WHERE state <> 'pending' AND created_at < $1`, ts(before))
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *Store) TokensForNotice(ctx context.Context, f tokend.NoticeFilter) ([]*tokend.Token, error) {
	rows, err := s.q().Query(ctx, `
		SELECT `+prefixed("t", tokenCols)+` FROM tokens t JOIN accounts a ON a.id = t.account_id
		WHERE t.expires_at > $1 AND t.expires_at <= $2 AND t.expires_at - t.created_at > make_interval(secs => $3)
			AND a.state = 1 AND t.state = 1 AND t.disabled_at IS NULL AND t.trust_policy_id IS NULL
			AND t.kind IN ('pat', 'service')
			AND NOT EXISTS (SELECT 1 FROM token_notices n WHERE n.token_id = t.id AND n.event = $4 AND n.threshold = $5)
		ORDER BY t.expires_at, t.id LIMIT $6`,
		ts(f.ExpiresAfter), ts(f.ExpiresBy), f.MinLifetime.Seconds(), f.Event, f.Threshold, f.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanToken)
}

func (s *Store) AddTokenNotice(ctx context.Context, tokenID tokend.TokenID, event string, threshold int, at time.Time) (bool, error) {
	tag, err := s.q().Exec(ctx, `
		INSERT INTO token_notices (token_id, event, threshold, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token_id, event, threshold) DO NOTHING`, tokenID, event, threshold, ts(at))
	if err != nil {
		return false, translate(err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddTokenAddresses inserts the whole batch in one statement; RETURNING names the rows that
// were new (a conflicting row returns nothing).
func (s *Store) AddTokenAddresses(ctx context.Context, as []tokend.TokenAddress) ([]tokend.TokenAddress, error) {
	if len(as) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(as))
	ips := make([]string, len(as))
	seen := make([]pgtype.Timestamptz, len(as))
	byKey := make(map[struct {
		id int64
		ip string
	}]tokend.TokenAddress, len(as))
	for i, a := range as {
		ids[i], ips[i] = int64(a.TokenID), a.IP
		seen[i] = pgtype.Timestamptz{Time: a.FirstSeen.Truncate(time.Microsecond), Valid: true}
		byKey[struct {
			id int64
			ip string
		}{int64(a.TokenID), a.IP}] = a
	}
	rows, err := s.q().Query(ctx, `
		INSERT INTO token_addresses (token_id, ip, first_seen)
		SELECT u.token_id, u.ip, u.first_seen FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS u (token_id, ip, first_seen)
		WHERE EXISTS (SELECT 1 FROM tokens t WHERE t.id = u.token_id)
		ON CONFLICT (token_id, ip) DO NOTHING
		RETURNING token_id, ip`, ids, ips, seen)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r scanner) (tokend.TokenAddress, error) {
		var (
			id int64
			ip string
		)
		if err := r.Scan(&id, &ip); err != nil {
			return tokend.TokenAddress{}, err
		}
		return byKey[struct {
			id int64
			ip string
		}{id, ip}], nil
	})
}
