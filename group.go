package tokend

import (
	"time"

	"tokend/perm"
)

// Group is an account's named set of grants; users are its members.
type Group struct {
	ID               int64
	AccountID        int64
	Name             string
	AssignByDefault  bool
	SSOMappingGroups []string
	State            State
	Permissions      []GroupPermission
	// MemberCount is the number of users in the group; stores fill it on reads.
	MemberCount int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupPermission is a grant held by a group, with the id the dbt API shows for it.
type GroupPermission struct {
	ID int64
	perm.Grant
}

// Grants returns the group's grants.
func (g *Group) Grants() []perm.Grant {
	out := make([]perm.Grant, len(g.Permissions))
	for i, p := range g.Permissions {
		out[i] = p.Grant
	}
	return out
}

// GroupFilter selects groups of one account.
type GroupFilter struct {
	AccountID int64
	State     State // zero: any
	Page
}
