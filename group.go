package tokend

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tokend/perm"
)

// Group is an account's named set of grants; users are its members.
type Group struct {
	ID               GroupID
	AccountID        AccountID
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
	AccountID AccountID
	State     State // zero: any
	// Name matches exactly and NameContains case-insensitively (ASCII); empty: no filter.
	Name         string
	NameContains string
	Select       IDSelect
	Order        Order
	Page
}

// MaxGroupNameLength bounds a group's name, in characters.
const MaxGroupNameLength = 255

// GroupInput describes a new group.
type GroupInput struct {
	Name             string
	AssignByDefault  bool
	SSOMappingGroups []string
}

// GroupUpdate carries the fields a group update may change; nil leaves a field alone.
// State StateDeleted deletes the group (softly: it stays listed with state 2).
type GroupUpdate struct {
	Name             *string
	AssignByDefault  *bool
	SSOMappingGroups *[]string
	State            *State
}

// ListGroups lists the account's groups by id. f.State zero lists every state; f.AccountID is
// taken from accountID.
func (s *Service) ListGroups(ctx context.Context, p *Principal, accountID AccountID, f GroupFilter) ([]*Group, int, error) {
	if err := authorize(p, accountID, perm.Groups, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if f.State != 0 && !f.State.Valid() {
		return nil, 0, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", f.State)
	}
	if err := checkText("name", f.Name); err != nil {
		return nil, 0, err
	}
	if err := checkText("name__icontains", f.NameContains); err != nil {
		return nil, 0, err
	}
	if err := checkOrder(f.Order, "name", "created_at", "updated_at"); err != nil {
		return nil, 0, err
	}
	f.AccountID = accountID
	f.Page = f.Page.Normalize()
	return s.store.ListGroups(ctx, f)
}

// Group returns one active group of the account; a deleted group is not found.
func (s *Service) Group(ctx context.Context, p *Principal, accountID AccountID, id GroupID) (*Group, error) {
	if err := authorize(p, accountID, perm.Groups, perm.Read, 0); err != nil {
		return nil, err
	}
	return activeGroup(ctx, s.store, accountID, id)
}

// CreateGroup creates an empty group (no grants, no members); its name must be unique among the
// account's active groups, ignoring case.
func (s *Service) CreateGroup(ctx context.Context, p *Principal, accountID AccountID, in GroupInput) (*Group, error) {
	if err := authorize(p, accountID, perm.Groups, perm.Write, 0); err != nil {
		return nil, err
	}
	name, err := groupName(in.Name)
	if err != nil {
		return nil, err
	}
	sso, err := ssoMappingGroups(in.SSOMappingGroups)
	if err != nil {
		return nil, err
	}
	var out *Group
	err = s.change(ctx, func(st *txn) error {
		if err := uniqueGroupName(ctx, st, accountID, 0, name); err != nil {
			return err
		}
		now := s.now()
		g := &Group{AccountID: accountID, Name: name, AssignByDefault: in.AssignByDefault,
			SSOMappingGroups: sso, State: StateActive, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateGroup(ctx, g); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "group.create", "group", g.ID)
		e.Detail = map[string]string{"name": name}
		st.audit(e)
		out, err = st.Group(ctx, accountID, g.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateGroup changes an active group, or deletes it with State StateDeleted. Changing a group
// needs Groups write and every grant the group holds: no one edits a group above their own rights.
func (s *Service) UpdateGroup(ctx context.Context, p *Principal, accountID AccountID, id GroupID, u GroupUpdate) (*Group, error) {
	if err := authorize(p, accountID, perm.Groups, perm.Write, 0); err != nil {
		return nil, err
	}
	if u.State != nil && !u.State.Valid() {
		return nil, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", *u.State)
	}
	var out *Group
	err := s.change(ctx, func(st *txn) error {
		g, err := activeGroup(ctx, st, accountID, id)
		if err != nil {
			return err
		}
		if err := coversGroup(p, g); err != nil {
			return err
		}
		changed := map[string]string{}
		if u.Name != nil {
			name, err := groupName(*u.Name)
			if err != nil {
				return err
			}
			if name != g.Name {
				if err := uniqueGroupName(ctx, st, accountID, g.ID, name); err != nil {
					return err
				}
				changed["name"] = name
				g.Name = name
			}
		}
		if u.AssignByDefault != nil && *u.AssignByDefault != g.AssignByDefault {
			g.AssignByDefault = *u.AssignByDefault
			changed["assign_by_default"] = strconv.FormatBool(g.AssignByDefault)
		}
		if u.SSOMappingGroups != nil {
			sso, err := ssoMappingGroups(*u.SSOMappingGroups)
			if err != nil {
				return err
			}
			if !slices.Equal(sso, g.SSOMappingGroups) {
				g.SSOMappingGroups = sso
				changed["sso_mapping_groups"] = strings.Join(sso, ",")
			}
		}
		action := "group.update"
		if u.State != nil && *u.State == StateDeleted {
			g.State = StateDeleted
			action = "group.delete"
			// Only a deletion changes what a member may do; a name, default or SSO mapping does not.
			st.invalidate(Invalidation{AccountID: accountID})
		}
		g.UpdatedAt = s.now()
		write := func() error { return st.UpdateGroup(ctx, g) }
		if g.State == StateDeleted && g.MemberCount > 0 {
			if err := keepsAnAdmin(ctx, st, accountID, "state", write); err != nil {
				return err
			}
		} else if err := write(); err != nil {
			return err
		}
		e := event(ctx, p, accountID, action, "group", id)
		e.Detail = changed
		st.audit(e)
		out, err = st.Group(ctx, accountID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetGroupPermissions replaces the grants of an active group with grants and returns the group.
// Each grant must be well-formed, name a project of this account and be held by p; p must also
// hold the grants being replaced. Grants with the same set and scope are merged into one.
func (s *Service) SetGroupPermissions(ctx context.Context, p *Principal, accountID AccountID, groupID GroupID, grants []perm.Grant) (*Group, error) {
	if err := authorize(p, accountID, perm.Groups, perm.Write, 0); err != nil {
		return nil, err
	}
	var out *Group
	err := s.change(ctx, func(st *txn) error {
		g, err := activeGroup(ctx, st, accountID, groupID)
		if err != nil {
			return err
		}
		if err := s.checkGrants(ctx, st, p, accountID, grants); err != nil {
			return err
		}
		if err := coversGroup(p, g); err != nil {
			return err
		}
		merged := mergeGrants(grants)
		write := func() error { return st.SetGroupPermissions(ctx, accountID, groupID, merged) }
		if g.MemberCount > 0 {
			if err := keepsAnAdmin(ctx, st, accountID, "permission_set", write); err != nil {
				return err
			}
		} else if err := write(); err != nil {
			return err
		}
		g.UpdatedAt = s.now()
		if err := st.UpdateGroup(ctx, g); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "group.permissions.set", "group", groupID)
		e.Detail = map[string]string{"permissions": describeGrants(merged), "previous": describeGrants(g.Grants())}
		st.audit(e)
		st.invalidate(Invalidation{AccountID: accountID})
		out, err = st.Group(ctx, accountID, groupID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AssignGroups makes groupIDs the exact set of groups of user userID in the account and returns
// the user's groups. p must hold every grant of each group the user joins or leaves, so that no
// one puts a user into (or takes them out of) a group above their own rights.
func (s *Service) AssignGroups(ctx context.Context, p *Principal, accountID AccountID, userID UserID, groupIDs []GroupID) ([]*Group, error) {
	if err := authorize(p, accountID, perm.Groups, perm.Write, 0); err != nil {
		return nil, err
	}
	ids := make([]GroupID, 0, len(groupIDs))
	for _, id := range groupIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > MaxGrants {
		return nil, Invalidf("desired_group_ids", "At most %d groups may be assigned at once, got %d.", MaxGrants, len(ids))
	}
	var out []*Group
	err := s.change(ctx, func(st *txn) error {
		m, err := st.Membership(ctx, accountID, userID)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err != nil || m.State != StateActive {
			return Errorf(ENotFound, "User %d is not a member of account %d.", userID, accountID)
		}
		current, err := st.GroupsOfUser(ctx, accountID, userID)
		if err != nil {
			return err
		}
		was := make(map[GroupID]*Group, len(current))
		for _, g := range current {
			was[g.ID] = g
		}
		var (
			added, removed []string
			before, after  []perm.Grant
		)
		for _, g := range current {
			before = append(before, g.Grants()...)
		}
		for _, id := range ids {
			g, err := activeGroup(ctx, st, accountID, id)
			if isNotFound(err) {
				return Invalidf("desired_group_ids", "Group %d does not exist in account %d.", id, accountID)
			}
			if err != nil {
				return err
			}
			after = append(after, g.Grants()...)
			if was[id] != nil {
				delete(was, id)
				continue
			}
			if err := coversGroup(p, g); err != nil {
				return err
			}
			added = append(added, strconv.FormatInt(int64(id), 10))
		}
		for _, g := range current {
			if was[g.ID] == nil {
				continue
			}
			if err := coversGroup(p, g); err != nil {
				return err
			}
			removed = append(removed, strconv.FormatInt(int64(g.ID), 10))
		}
		if isAccountAdmin(before, m.License) && !isAccountAdmin(after, m.License) {
			if err := keepAnAdmin(ctx, st, accountID, userID, "desired_group_ids"); err != nil {
				return err
			}
		}
		if err := st.SetUserGroups(ctx, accountID, userID, ids); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "user.groups.assign", "user", userID)
		e.Detail = map[string]string{"added": strings.Join(added, ","), "removed": strings.Join(removed, ",")}
		st.audit(e)
		st.invalidate(Invalidation{AccountID: accountID, UserID: userID})
		out, err = st.GroupsOfUser(ctx, accountID, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// activeGroup reads a group; a deleted one is not found, as in the dbt API.
func activeGroup(ctx context.Context, st Store, accountID AccountID, id GroupID) (*Group, error) {
	g, err := st.Group(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if g.State != StateActive {
		return nil, Errorf(ENotFound, "Group not found.")
	}
	return g, nil
}

func groupName(s string) (string, error) {
	if err := checkText("name", s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalidf("name", "The group name must not be empty.")
	}
	if n := utf8.RuneCountInString(s); n > MaxGroupNameLength {
		return "", Invalidf("name", "The group name must be at most %d characters, got %d.", MaxGroupNameLength, n)
	}
	return s, nil
}

// uniqueGroupName refuses name when another active group of the account (not except) has it,
// ignoring case. Stores hold no unique index on names (deleted groups keep theirs), so the check
// reads the account's groups; an account has few.
func uniqueGroupName(ctx context.Context, st Store, accountID AccountID, except GroupID, name string) error {
	f := GroupFilter{AccountID: accountID, State: StateActive, Page: Page{Limit: MaxLimit}}
	for {
		gs, total, err := st.ListGroups(ctx, f)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if g.ID != except && strings.EqualFold(g.Name, name) {
				return Invalidf("name", "A group named %q already exists in this account (group %d).", g.Name, g.ID)
			}
		}
		f.Offset += len(gs)
		if len(gs) == 0 || f.Offset >= total {
			return nil
		}
	}
}

// ssoMappingGroups trims the names of identity-provider groups and drops repeats.
func ssoMappingGroups(in []string) ([]string, error) {
	if len(in) > MaxGrants {
		return nil, Invalidf("sso_mapping_groups", "At most %d SSO mapping groups are allowed, got %d.", MaxGrants, len(in))
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		if err := checkText("sso_mapping_groups", s); err != nil {
			return nil, err
		}
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return nil, Invalidf("sso_mapping_groups", "SSO mapping group %d is empty.", i)
		case utf8.RuneCountInString(s) > MaxGroupNameLength:
			return nil, Invalidf("sso_mapping_groups", "SSO mapping group %d is longer than %d characters.", i, MaxGroupNameLength)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
