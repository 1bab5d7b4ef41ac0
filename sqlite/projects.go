package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"tokend"
)

const projectCols = `id, account_id, name, description, type, dbt_project_subdirectory, connection_id, repository_id,
	semantic_layer_config_id, docs_job_id, freshness_job_id, state, created_at, updated_at`

func scanProject(row interface{ Scan(...any) error }) (*tokend.Project, error) {
	var (
		p                                 tokend.Project
		sub                               sql.NullString
		conn, repo, semantic, docs, fresh sql.NullInt64
		created, updated                  sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.Type, &sub, &conn, &repo, &semantic,
		&docs, &fresh, &p.State, &created, &updated); err != nil {
		return nil, err
	}
	p.Subdirectory = sub.String
	p.Refs = tokend.ProjectRefs{ConnectionID: conn.Int64, RepositoryID: repo.Int64, SemanticLayerConfigID: semantic.Int64,
		DocsJobID: docs.Int64, FreshnessJobID: fresh.Int64}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return &p, nil
}

// projectArgs are the columns a create or an update writes, in projectWriteCols order.
func projectArgs(p *tokend.Project) []any {
	var sub any
	if p.Subdirectory != "" {
		sub = p.Subdirectory
	}
	r := p.Refs
	return []any{p.Name, p.Description, p.Type, sub, nullID(r.ConnectionID), nullID(r.RepositoryID),
		nullID(r.SemanticLayerConfigID), nullID(r.DocsJobID), nullID(r.FreshnessJobID), p.State, ts(p.UpdatedAt)}
}

func (s *Store) CreateProject(ctx context.Context, p *tokend.Project) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO projects (name, description, type, dbt_project_subdirectory, connection_id, repository_id,
			semantic_layer_config_id, docs_job_id, freshness_job_id, state, updated_at, account_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		append(projectArgs(p), p.AccountID, ts(p.CreatedAt))...).Scan(&p.ID)
	return translate(err)
}

func (s *Store) Project(ctx context.Context, accountID tokend.AccountID, id tokend.ProjectID) (*tokend.Project, error) {
	p, err := scanProject(s.reader().QueryRowContext(ctx,
		`SELECT `+projectCols+` FROM projects WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Project")
	}
	return p, nil
}

func (s *Store) UpdateProject(ctx context.Context, p *tokend.Project) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE projects SET name = ?, description = ?, type = ?, dbt_project_subdirectory = ?, connection_id = ?,
			repository_id = ?, semantic_layer_config_id = ?, docs_job_id = ?, freshness_job_id = ?, state = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		append(projectArgs(p), p.AccountID, p.ID)...)
	return affected(res, err, "Project")
}

func (s *Store) ListProjects(ctx context.Context, f tokend.ProjectFilter) ([]*tokend.Project, int, error) {
	where, args := `account_id = ?`, []any{f.AccountID}
	if f.State != 0 {
		where += ` AND state = ?`
		args = append(args, f.State)
	}
	if f.NameContains != "" {
		where += ` AND instr(lower(name), lower(?)) > 0`
		args = append(args, f.NameContains)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return nil, 0, nil
		}
		where += ` AND id IN (?` + strings.Repeat(", ?", len(f.IDs)-1) + `)`
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	where, args, some := idSelect(where, args, "id", f.Select)
	if !some {
		return nil, 0, nil
	}
	// The page and the total in one statement (a window count over the filtered rows): one
	// read of the database instead of two. A page past the end has no row to carry the total,
	// so it is counted on its own.
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+projectCols+`, count(*) OVER () FROM projects WHERE `+where+
		orderBy(f.Order, listOrderColumn, "id")+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	var total int
	ps, err := collect(rows, func(row interface{ Scan(...any) error }) (*tokend.Project, error) {
		return scanProject(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &total)...) }))
	})
	if err != nil || len(ps) > 0 || offset == 0 {
		return ps, total, err
	}
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	return ps, total, nil
}

// listOrderColumn is the column of an order field shared by projects, groups and license maps.
func listOrderColumn(field string) string {
	switch field {
	case "name":
		return "lower(name)"
	case "created_at", "updated_at":
		return field
	}
	return ""
}
