package tokend

import (
	"context"

	"tokend/perm"
)

// AuditLog lists the account's audit events, newest first; it needs read access to the audit
// log.
func (s *Service) AuditLog(ctx context.Context, p *Principal, f AuditFilter) ([]*AuditEvent, int, error) {
	if err := authorize(p, f.AccountID, perm.AuditLog, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return nil, 0, Invalidf("since", "\"since\" must be before \"until\".")
	}
	if err := checkText("event_type", f.Action); err != nil {
		return nil, 0, err
	}
	f.Page = f.Page.Normalize()
	return s.store.ListAudit(ctx, f)
}
