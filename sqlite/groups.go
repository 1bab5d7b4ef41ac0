package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"tokend"
	"tokend/perm"
)

const groupCols = `id, account_id, name, assign_by_default, sso_mapping_groups, state, created_at, updated_at`

func scanGroup(row interface{ Scan(...any) error }) (*tokend.Group, error) {
	var (
		g                tokend.Group
		sso              string
		created, updated sql.NullInt64
	)
	if err := row.Scan(&g.ID, &g.AccountID, &g.Name, &g.AssignByDefault, &sso, &g.State, &created, &updated); err != nil {
		return nil, err
	}
	if sso != "" && sso != "[]" {
		if err := json.Unmarshal([]byte(sso), &g.SSOMappingGroups); err != nil {
			return nil, err
		}
	}
	g.CreatedAt, g.UpdatedAt = fromTS(created), fromTS(updated)
	return &g, nil
}

func (s *Store) CreateGroup(ctx context.Context, g *tokend.Group) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO account_groups (account_id, name, assign_by_default, sso_mapping_groups, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		g.AccountID, g.Name, boolInt(g.AssignByDefault), encodeCategories(g.SSOMappingGroups), g.State,
		ts(g.CreatedAt), ts(g.UpdatedAt)).Scan(&g.ID)
	return translate(err)
}

func (s *Store) Group(ctx context.Context, accountID tokend.AccountID, id tokend.GroupID) (*tokend.Group, error) {
	g, err := scanGroup(s.reader().QueryRowContext(ctx,
		`SELECT `+groupCols+` FROM account_groups WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Group")
	}
	if err := s.loadGroupPermissions(ctx, []*tokend.Group{g}); err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Store) UpdateGroup(ctx context.Context, g *tokend.Group) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE account_groups SET name = ?, assign_by_default = ?, sso_mapping_groups = ?, state = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		g.Name, boolInt(g.AssignByDefault), encodeCategories(g.SSOMappingGroups), g.State, ts(g.UpdatedAt), g.AccountID, g.ID)
	return affected(res, err, "Group")
}

func (s *Store) ListGroups(ctx context.Context, f tokend.GroupFilter) ([]*tokend.Group, int, error) {
	where, args := `account_id = ?`, []any{f.AccountID}
	if f.State != 0 {
		where += ` AND state = ?`
		args = append(args, f.State)
	}
	if f.Name != "" {
		where += ` AND name = ?`
		args = append(args, f.Name)
	}
	if f.NameContains != "" {
		where += ` AND instr(lower(name), lower(?)) > 0`
		args = append(args, f.NameContains)
	}
	where, args, some := idSelect(where, args, "id", f.Select)
	if !some {
		return nil, 0, nil
	}
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM account_groups WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+groupCols+` FROM account_groups WHERE `+where+
		orderBy(f.Order, listOrderColumn, "id")+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	gs, err := collect(rows, scanGroup)
	if err != nil {
		return nil, 0, err
	}
	return gs, total, s.loadGroupPermissions(ctx, gs)
}

// loadGroupPermissions fills in the grants and member counts of gs, one query each.
func (s *Store) loadGroupPermissions(ctx context.Context, gs []*tokend.Group) error {
	if len(gs) == 0 {
		return nil
	}
	byID := make(map[tokend.GroupID]*tokend.Group, len(gs))
	args := make([]any, len(gs))
	for i, g := range gs {
		byID[g.ID] = g
		args[i] = g.ID
	}
	rows, err := s.reader().QueryContext(ctx, `
		SELECT id, group_id, permission_set, all_projects, project_id, writable_environment_categories
		FROM group_permissions WHERE group_id IN (?`+strings.Repeat(", ?", len(gs)-1)+`) ORDER BY id`, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, groupID int64
			set, cats   string
			all         bool
			project     sql.NullInt64
		)
		if err := rows.Scan(&id, &groupID, &set, &all, &project, &cats); err != nil {
			return translate(err)
		}
		g, err := decodeGrant(set, all, project, cats)
		if err != nil {
			return err
		}
		byID[tokend.GroupID(groupID)].Permissions = append(byID[tokend.GroupID(groupID)].Permissions, tokend.GroupPermission{ID: id, Grant: g})
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	counts, err := s.reader().QueryContext(ctx, `
		SELECT group_id, count(*) FROM group_members WHERE group_id IN (?`+strings.Repeat(", ?", len(gs)-1)+`)
		GROUP BY group_id`, args...)
	if err != nil {
		return translate(err)
	}
	defer counts.Close()
	for counts.Next() {
		var groupID int64
		var n int
		if err := counts.Scan(&groupID, &n); err != nil {
			return translate(err)
		}
		byID[tokend.GroupID(groupID)].MemberCount = n
	}
	return translate(counts.Err())
}

func (s *Store) SetGroupPermissions(ctx context.Context, accountID tokend.AccountID, groupID tokend.GroupID, grants []perm.Grant) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		st := tx.(*Store)
		var one int
		if err := st.tx.QueryRowContext(ctx, `SELECT 1 FROM account_groups WHERE account_id = ? AND id = ?`,
			accountID, groupID).Scan(&one); err != nil {
			return translateNotFound(err, "Group")
		}
		if _, err := st.tx.ExecContext(ctx, `DELETE FROM group_permissions WHERE group_id = ?`, groupID); err != nil {
			return translate(err)
		}
		for _, g := range grants {
			if _, err := st.tx.ExecContext(ctx, `
				INSERT INTO group_permissions (account_id, group_id, permission_set, all_projects, project_id, writable_environment_categories)
				VALUES (?, ?, ?, ?, ?, ?)`,
				accountID, groupID, string(g.Set), boolInt(g.AllProjects), nullID(g.ProjectID),
				encodeCategories(g.WritableEnvironmentCategories)); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) SetUserGroups(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, groupIDs []tokend.GroupID) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		st := tx.(*Store)
		for _, id := range groupIDs {
			var one int
			if err := st.tx.QueryRowContext(ctx, `SELECT 1 FROM account_groups WHERE account_id = ? AND id = ?`,
				accountID, id).Scan(&one); err != nil {
				return translateNotFound(err, "Group")
			}
		}
		if _, err := st.tx.ExecContext(ctx, `DELETE FROM group_members WHERE account_id = ? AND user_id = ?`,
			accountID, userID); err != nil {
			return translate(err)
		}
		for _, id := range groupIDs {
			if _, err := st.tx.ExecContext(ctx, `
				INSERT INTO group_members (group_id, user_id, account_id) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, id, userID, accountID); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) GroupsOfUser(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID) ([]*tokend.Group, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT `+prefixed("g", groupCols)+` FROM account_groups g
		JOIN group_members gm ON gm.group_id = g.id
		WHERE gm.account_id = ? AND gm.user_id = ? AND g.account_id = ? AND g.state = 1
		ORDER BY g.id`, accountID, userID, accountID)
	if err != nil {
		return nil, translate(err)
	}
	gs, err := collect(rows, scanGroup)
	if err != nil {
		return nil, err
	}
	return gs, s.loadGroupPermissions(ctx, gs)
}
