package tokend

import (
	"context"
	"errors"
	"fmt"

	"tokend/perm"
)

// MaxGrants bounds the grants one group or service token may hold.
const MaxGrants = 1000

// checkGrants validates grants for accountID: each is well-formed, names a project of this
// account, and is no more than p holds itself (no one hands out what they do not have).
// field prefixes error fields, e.g. "permissions".
func (s *Service) checkGrants(ctx context.Context, st Store, p *Principal, accountID int64, grants []perm.Grant) error {
	if len(grants) > MaxGrants {
		return Invalidf("permissions", "At most %d permissions may be set at once, got %d.", MaxGrants, len(grants))
	}
	seen := map[int64]bool{}
	for i, g := range grants {
		if err := g.Validate(); err != nil {
			var fe *perm.FieldError
			if errors.As(err, &fe) {
				return Invalidf(fmt.Sprintf("[%d].%s", i, fe.Field), "Permission %d: %s: %s.", i, fe.Field, fe.Reason)
			}
			return Invalidf(fmt.Sprintf("[%d]", i), "Permission %d: %s.", i, err)
		}
		if g.ProjectID != 0 && !seen[g.ProjectID] {
			if _, err := st.Project(ctx, accountID, g.ProjectID); err != nil {
				if isNotFound(err) {
					return Invalidf(fmt.Sprintf("[%d].project_id", i), "Permission %d: project %d does not exist in account %d.", i, g.ProjectID, accountID)
				}
				return err
			}
			seen[g.ProjectID] = true
		}
		if !p.Covers(g) {
			return Errorf(EForbidden, "Permission %d: you cannot grant %s (%s) because you do not hold it yourself in that scope.", i, g.Set.Label(), g.Set)
		}
	}
	return nil
}

// event starts an audit event for an action by p in accountID, with the request's origin.
func event(ctx context.Context, p *Principal, accountID int64, action, targetType string, targetID int64) *AuditEvent {
	m := RequestMetaFrom(ctx)
	e := &AuditEvent{AccountID: accountID, Action: action, TargetType: targetType, TargetID: targetID,
		IP: m.IP, UserAgent: m.UserAgent}
	if p != nil {
		e.ActorUserID, e.ActorToken = p.UserID, p.TokenUID
	}
	return e
}
