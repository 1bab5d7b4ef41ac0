package tokend

import (
	"context"
	"tokend/perm"
)

// isAccountAdmin reports whether grants under license amount to account_admin on the whole
// account.
func isAccountAdmin(grants []perm.Grant, license perm.License) bool {
	return perm.Evaluate(grants).Apply(license).Covers(perm.Grant{Set: perm.AccountAdmin, AllProjects: true})
}

// keepAnAdmin refuses (naming field) unless an active member of the account other than userID is
// an account admin, so that no change leaves an account that nobody can administer.
func keepAnAdmin(ctx context.Context, st Store, accountID AccountID, userID UserID, field string) error {
	ok, err := hasAdmin(ctx, st, accountID, userID)
	if err != nil || ok {
		return err
	}
	return Invalidf(field, "This user is the last account admin of the account; make someone else an account admin first.")
}

// hasAdmin reports whether an active member of the account other than except is an account
// admin, as st sees the rows (inside a change: after it).
func hasAdmin(ctx context.Context, st Store, accountID AccountID, except UserID) (bool, error) {
	f := MembershipFilter{AccountID: accountID, State: StateActive, Page: Page{Limit: MaxLimit}}
	for {
		ms, total, err := st.ListMemberships(ctx, f)
		if err != nil {
			return false, err
		}
		for _, o := range ms {
			if o.UserID == except {
				continue
			}
			groups, err := st.GroupsOfUser(ctx, accountID, o.UserID)
			if err != nil {
				return false, err
			}
			var grants []perm.Grant
			for _, g := range groups {
				grants = append(grants, g.Grants()...)
			}
			if isAccountAdmin(grants, o.License) {
				return true, nil
			}
		}
		f.Offset += len(ms)
		if len(ms) == 0 || f.Offset >= total {
			return false, nil
		}
	}
}

// keepsAnAdmin runs write inside st and refuses it (naming field; the caller's transaction then
// rolls back) when it leaves an account that had an account admin with none.
func keepsAnAdmin(ctx context.Context, st Store, accountID AccountID, field string, write func() error) error {
	had, err := hasAdmin(ctx, st, accountID, 0)
	if err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	if !had {
		return nil
	}
	has, err := hasAdmin(ctx, st, accountID, 0)
	if err != nil || has {
		return err
	}
	return Invalidf(field, "This change would leave account %d without an account admin; make someone else an account admin first.", accountID)
}
