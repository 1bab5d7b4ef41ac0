package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
	"tokend/perm"
)

// groupCols reads a group from account_groups g, with its member count.
const groupCols = `g.id, g.account_id, g.name, g.assign_by_default, g.sso_mapping_groups, g.state, g.created_at, g.updated_at,
	(SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id)`

func scanGroup(row scanner) (*tokend.Group, error) {
	var (
		g                tokend.Group
		sso              []string
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&g.ID, &g.AccountID, &g.Name, &g.AssignByDefault, &sso, &g.State, &created, &updated,
		&g.MemberCount); err != nil {
		return nil, err
	}
	g.SSOMappingGroups = nilIfEmpty(sso)
	g.CreatedAt, g.UpdatedAt = fromTS(created), fromTS(updated)
	return &g, nil
}

func (s *Store) CreateGroup(ctx context.Context, g *tokend.Group) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO account_groups (account_id, name, assign_by_default, sso_mapping_groups, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		g.AccountID, g.Name, g.AssignByDefault, texts(g.SSOMappingGroups), int(g.State),
		ts(g.CreatedAt), ts(g.UpdatedAt)).Scan(&g.ID)
	return translate(err)
}

func (s *Store) Group(ctx context.Context, accountID tokend.AccountID, id tokend.GroupID) (*tokend.Group, error) {
	g, err := scanGroup(s.q().QueryRow(ctx,
		`SELECT `+groupCols+` FROM account_groups g WHERE g.account_id = $1 AND g.id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Group")
	}
	if err := s.loadGroupPermissions(ctx, []*tokend.Group{g}); err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Store) UpdateGroup(ctx context.Context, g *tokend.Group) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE account_groups SET name = $1, assign_by_default = $2, sso_mapping_groups = $3, state = $4, updated_at = $5
		WHERE account_id = $6 AND id = $7`,
		g.Name, g.AssignByDefault, texts(g.SSOMappingGroups), int(g.State), ts(g.UpdatedAt), g.AccountID, g.ID)
	return affected(tag, err, "Group")
}

func (s *Store) ListGroups(ctx context.Context, f tokend.GroupFilter) ([]*tokend.Group, int, error) {
	var w where
	w.add(`g.account_id = $%d`, f.AccountID)
	if f.State != 0 {
		w.add(`g.state = $%d`, int(f.State))
	}
	if f.Name != "" {
		w.add(`g.name = $%d`, f.Name)
	}
	if f.NameContains != "" {
		w.add(`strpos(lower(g.name), lower($%d)) > 0`, f.NameContains)
	}
	w.ids("g.id", f.Select)
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM account_groups g WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+groupCols+` FROM account_groups g WHERE `+w.conds+orderBy(f.Order, groupOrderColumn, "g.id")+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	gs, err := collect(rows, scanGroup)
	if err != nil {
		return nil, 0, err
	}
	return gs, total, s.loadGroupPermissions(ctx, gs)
}

// loadGroupPermissions fills in the grants of gs in one query.
func (s *Store) loadGroupPermissions(ctx context.Context, gs []*tokend.Group) error {
	if len(gs) == 0 {
		return nil
	}
	byID := make(map[tokend.GroupID]*tokend.Group, len(gs))
	ids := make([]int64, len(gs))
	for i, g := range gs {
		byID[g.ID] = g
		ids[i] = int64(g.ID)
	}
	rows, err := s.q().Query(ctx, `
		SELECT id, group_id, permission_set, all_projects, project_id, writable_environment_categories
		FROM group_permissions WHERE group_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return translate(err)
	}
	grants, err := collect(rows, scanGrant)
	if err != nil {
		return err
	}
	for _, r := range grants {
		g := byID[tokend.GroupID(r.owner)]
		g.Permissions = append(g.Permissions, tokend.GroupPermission{ID: r.id, Grant: r.grant})
	}
	return nil
}

func (s *Store) SetGroupPermissions(ctx context.Context, accountID tokend.AccountID, groupID tokend.GroupID, grants []perm.Grant) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		q := tx.(*Store).tx
		if err := takeGrantsTurn(ctx, q); err != nil {
			return err
		}
		// The row lock makes concurrent replacements of one group's grants take turns; without
		// it both would delete the old set and both insert, leaving the union.
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM account_groups WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE`,
			accountID, groupID).Scan(&one); err != nil {
			return translateNotFound(err, "Group")
		}
		if _, err := q.Exec(ctx, `DELETE FROM group_permissions WHERE group_id = $1`, groupID); err != nil {
			return translate(err)
		}
		if len(grants) == 0 {
			return nil
		}
		_, err := q.CopyFrom(ctx, pgx.Identifier{"group_permissions"},
			append([]string{"account_id", "group_id"}, grantColumns...),
			copyGrants([]any{accountID, groupID}, grants))
		return translate(err)
	})
}

func (s *Store) SetUserGroups(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, groupIDs []tokend.GroupID) error {
	return s.Tx(ctx, func(tx tokend.Store) error {
		q := tx.(*Store).tx
		if err := takeGrantsTurn(ctx, q); err != nil {
			return err
		}
		// Concurrent replacements of one user's groups take turns on the user's row, for the
		// same reason as in SetGroupPermissions.
		if _, err := q.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID); err != nil {
			return translate(err)
		}
		var missing int
		if err := q.QueryRow(ctx, `
			SELECT count(*) FROM unnest($2::bigint[]) AS x(id)
			WHERE NOT EXISTS (SELECT 1 FROM account_groups g WHERE g.account_id = $1 AND g.id = x.id)`,
			accountID, idsArg(groupIDs)).Scan(&missing); err != nil {
			return translate(err)
		}
		if missing > 0 {
			return notFound("Group")
		}
		if _, err := q.Exec(ctx, `DELETE FROM group_members WHERE account_id = $1 AND user_id = $2`,
			accountID, userID); err != nil {
			return translate(err)
		}
		_, err := q.Exec(ctx, `
			INSERT INTO group_members (group_id, user_id, account_id)
			SELECT x.id, $2, $3 FROM unnest($1::bigint[]) AS x(id)
			ON CONFLICT DO NOTHING`, idsArg(groupIDs), userID, accountID)
		return translate(err)
	})
}

func (s *Store) GroupsOfUser(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID) ([]*tokend.Group, error) {
	rows, err := s.q().Query(ctx, `
		SELECT `+groupCols+` FROM account_groups g
		JOIN group_members m ON m.group_id = g.id
		WHERE m.account_id = $1 AND m.user_id = $2 AND g.account_id = $1 AND g.state = 1
		ORDER BY g.id`, accountID, userID)
	if err != nil {
		return nil, translate(err)
	}
	gs, err := collect(rows, scanGroup)
	if err != nil {
		return nil, err
	}
	return gs, s.loadGroupPermissions(ctx, gs)
}

// groupOrderColumn is listOrderColumn on the alias g.
func groupOrderColumn(field string) string {
	switch field {
	case "name":
		return "lower(g.name)"
	case "created_at", "updated_at":
		return "g." + field
	}
	return ""
}
