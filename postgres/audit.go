package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const auditCols = `id, account_id, actor_user_id, actor_token, action, target_type, target_id, detail, ip, user_agent, created_at`

func scanAudit(row scanner) (*tokend.AuditEvent, error) {
	var (
		e                      tokend.AuditEvent
		account, actor, target pgtype.Int8
		created                pgtype.Timestamptz
	)
	if err := row.Scan(&e.ID, &account, &actor, &e.ActorToken, &e.Action, &e.TargetType, &target, &e.Detail,
		&e.IP, &e.UserAgent, &created); err != nil {
		return nil, err
	}
	e.AccountID, e.ActorUserID, e.TargetID = tokend.AccountID(account.Int64), tokend.UserID(actor.Int64), target.Int64
	if len(e.Detail) == 0 {
		e.Detail = nil
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
	err := s.q().QueryRow(ctx, `
		INSERT INTO audit_events (account_id, actor_user_id, actor_token, action, target_type, target_id, detail, ip,
			user_agent, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		nullID(e.AccountID), nullID(e.ActorUserID), e.ActorToken, e.Action, e.TargetType, nullID(e.TargetID),
		detail, e.IP, e.UserAgent, ts(e.CreatedAt)).Scan(&e.ID)
	return translate(err)
}

func (s *Store) ListAudit(ctx context.Context, f tokend.AuditFilter) ([]*tokend.AuditEvent, int, error) {
	var w where
	w.add(`account_id = $%d`, f.AccountID)
	if f.Action != "" {
		w.add(`action = $%d`, f.Action)
	}
	if !f.Since.IsZero() {
		w.add(`created_at >= $%d`, ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add(`created_at < $%d`, ts(f.Until))
	}
	if f.ActorUserID != 0 {
		w.add(`actor_user_id = $%d`, f.ActorUserID)
	}
	if f.TokenUID != "" {
		w.add(`(actor_token = $%d`, f.TokenUID)
		w.args = append(w.args, f.TokenID, tokend.TokenTargetTypes)
		w.conds += fmt.Sprintf(` OR (target_id = $%d AND target_type = ANY($%d)))`, len(w.args)-1, len(w.args))
	}
	if f.BeforeID != 0 {
		w.add(`id < $%d`, f.BeforeID)
	}
	total := -1
	if !f.NoTotal {
		if err := s.q().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE `+w.conds, w.args...).Scan(&total); err != nil {
			return nil, 0, translate(err)
		}
	}
	limit, args := w.limit(f.Page)
	// Newest first.
	rows, err := s.q().Query(ctx, `SELECT `+auditCols+` FROM audit_events WHERE `+w.conds+` ORDER BY id DESC`+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	es, err := collect(rows, scanAudit)
	return es, total, err
}
