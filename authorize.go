package tokend

import (
	"context"
	"fmt"
	"tokend/perm"
)

// checkAccount enforces the account boundary: an account-scoped token reaches only its own
// account.
func checkAccount(p *Principal, accountID AccountID) error {
	if p == nil {
		return ErrInvalidToken
	}
	if p.AccountID != accountID {
		return Errorf(EForbidden, "This token belongs to another account and cannot access this one: use a token created in this account.")
	}
	return nil
}

// authorize checks the account boundary and one capability.
func authorize(p *Principal, accountID AccountID, r perm.Resource, a perm.Access, projectID ProjectID) error {
	if err := checkAccount(p, accountID); err != nil {
		return err
	}
	if !p.Can(r, a, projectID) {
		return missing(p, r, a, projectID)
	}
	return nil
}

// missing is the refusal of (r, a) in projectID. When the person's license is what rules the
// capability out (no group could give it), the message says so: a Read-only user's PAT asked
// to write is refused because of the license, and adding them to a group would not help. The
// refusal names the capability and the permission sets that would grant it (see Missing).
func missing(p *Principal, r perm.Resource, a perm.Access, projectID ProjectID) *Error {
	verb := "read"
	if a == perm.Write {
		verb = "write"
	}
	scope := "on this account"
	if r.Level() == perm.ProjectLevel {
		scope = "on all projects"
		if projectID != 0 {
			scope = "on this project"
		}
	}
	m := missingOf(p, r, a)
	if m.License != "" {
		why := "which does not allow it whatever their groups grant"
		switch p.License {
		case perm.LicenseReadOnly:
			why = "which allows reads only, whatever their groups grant"
		case perm.LicenseIT:
			why = "which allows security and billing administration only, whatever their groups grant"
		}
		return &Error{Code: EForbidden, Missing: m, Message: fmt.Sprintf("Permission denied: %s access to %s %s is required, and your license in this account is %s, %s; an account admin can change your license.",
			verb, r, scope, p.License.Label(), why)}
	}
	return &Error{Code: EForbidden, Missing: m, Message: fmt.Sprintf("Permission denied: %s access to %s %s is required.", verb, r, scope)}
}

// missingOf names capability (r, a) and the permission sets that grant it: for a service
// token, those its account's plan lets a service token hold. For a person whose license rules
// the capability out, the license is named too.
func missingOf(p *Principal, r perm.Resource, a perm.Access) *Missing {
	m := &Missing{Permission: perm.Name(r, a)}
	for _, set := range perm.GrantedBy(r, a) {
		if p != nil && p.Kind == KindService && !p.Plan.AllowsServiceTokenSet(set) {
			continue
		}
		m.GrantedBy = append(m.GrantedBy, string(set))
	}
	if p != nil && p.IsUser() && p.License != "" && !p.License.Allows(r, a) {
		m.License = string(p.License)
	}
	return m
}

// MissingCapability is the refusal of a principal that lacks (r, a) in projectID, for adapters
// that check a capability themselves (the forward-auth gateway).
func MissingCapability(p *Principal, r perm.Resource, a perm.Access, projectID ProjectID) *Error {
	return missing(p, r, a, projectID)
}

// AuditRefused records that a valid token was refused an action (a 403), naming the token by
// uid. Refusals are folded in memory by token, method and path and written with the token
// uses (FlushUsage), each event counting its refusals: no database write per request.
func (s *Service) AuditRefused(ctx context.Context, p *Principal, method, path string) {
	if p == nil {
		return
	}
	e := event(ctx, p, p.AccountID, "token.refused", string(p.Kind), p.TokenID)
	e.CreatedAt = s.now()
	s.refusals.record(e, p.TokenUID, method, path)
}
