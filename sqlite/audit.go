package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"tokend"
)

const auditCols = `id, account_id, actor_user_id, actor_token, action, target_type, target_id, detail, ip, user_agent, created_at`

func scanAudit(row interface{ Scan(...any) error }) (*tokend.AuditEvent, error) {
	var (
		e                      tokend.AuditEvent
		account, actor, target sql.NullInt64
		detail                 string
		created                sql.NullInt64
	)
	if err := row.Scan(&e.ID, &account, &actor, &e.ActorToken, &e.Action, &e.TargetType, &target, &detail,
		&e.IP, &e.UserAgent, &created); err != nil {
		return nil, err
	}
	e.AccountID, e.ActorUserID, e.TargetID = tokend.AccountID(account.Int64), tokend.UserID(actor.Int64), target.Int64
	if detail != "" && detail != "{}" {
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, err
		}
	}
	e.CreatedAt = fromTS(created)
	return &e, nil
}

func (s *Store) AppendAudit(ctx context.Context, e *tokend.AuditEvent) error {
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return err
		}
		detail = string(b)
	}
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO audit_events (account_id, actor_user_id, actor_token, action, target_type, target_id, detail, ip, user_agent, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		nullID(e.AccountID), nullID(e.ActorUserID), e.ActorToken, e.Action, e.TargetType, nullID(e.TargetID),
		detail, e.IP, e.UserAgent, ts(e.CreatedAt)).Scan(&e.ID)
	return translate(err)
}

func (s *Store) ListAudit(ctx context.Context, f tokend.AuditFilter) ([]*tokend.AuditEvent, int, error) {
	where, args := `account_id = ?`, []any{f.AccountID}
	if f.Action != "" {
		where += ` AND action = ?`
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where += ` AND created_at >= ?`
		args = append(args, ts(f.Since))
	}
	if !f.Until.IsZero() {
		where += ` AND created_at < ?`
		args = append(args, ts(f.Until))
	}
	if f.ActorUserID != 0 {
		where += ` AND actor_user_id = ?`
		args = append(args, f.ActorUserID)
	}
	if f.TokenUID != "" {
		where += ` AND (actor_token = ? OR (target_id = ? AND target_type IN (?` + strings.Repeat(", ?", len(tokend.TokenTargetTypes)-1) + `)))`
		args = append(args, f.TokenUID, f.TokenID)
		for _, t := range tokend.TokenTargetTypes {
			args = append(args, t)
		}
	}
	if f.BeforeID != 0 {
		where += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	total := -1
	if !f.NoTotal {
		if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE `+where, args...).Scan(&total); err != nil {
			return nil, 0, translate(err)
		}
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+auditCols+` FROM audit_events WHERE `+where+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	es, err := collect(rows, scanAudit)
	return es, total, err
}
