package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const projectCols = `id, account_id, name, description, type, dbt_project_subdirectory, connection_id, repository_id,
	semantic_layer_config_id, docs_job_id, freshness_job_id, state, created_at, updated_at`

func scanProject(row scanner) (*tokend.Project, error) {
	var (
		p                                 tokend.Project
		typ, state                        int
		sub                               pgtype.Text
		conn, repo, semantic, docs, fresh pgtype.Int8
		created, updated                  pgtype.Timestamptz
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &typ, &sub, &conn, &repo, &semantic,
		&docs, &fresh, &state, &created, &updated); err != nil {
		return nil, err
	}
	p.Type, p.State, p.Subdirectory = tokend.ProjectType(typ), tokend.State(state), sub.String
	p.Refs = tokend.ProjectRefs{ConnectionID: conn.Int64, RepositoryID: repo.Int64, SemanticLayerConfigID: semantic.Int64,
		DocsJobID: docs.Int64, FreshnessJobID: fresh.Int64}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return &p, nil
}

// projectArgs are the columns a create or an update writes, as $1…$11.
func projectArgs(p *tokend.Project) []any {
	var sub any
	if p.Subdirectory != "" {
		sub = p.Subdirectory
	}
	r := p.Refs
	return []any{p.Name, p.Description, int(p.Type), sub, nullID(r.ConnectionID), nullID(r.RepositoryID),
		nullID(r.SemanticLayerConfigID), nullID(r.DocsJobID), nullID(r.FreshnessJobID), int(p.State), ts(p.UpdatedAt)}
}

func (s *Store) CreateProject(ctx context.Context, p *tokend.Project) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO projects (name, description, type, dbt_project_subdirectory, connection_id, repository_id,
			semantic_layer_config_id, docs_job_id, freshness_job_id, state, updated_at, account_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		append(projectArgs(p), p.AccountID, ts(p.CreatedAt))...).Scan(&p.ID)
	return translate(err)
}

func (s *Store) Project(ctx context.Context, accountID tokend.AccountID, id tokend.ProjectID) (*tokend.Project, error) {
	p, err := scanProject(s.q().QueryRow(ctx,
		`SELECT `+projectCols+` FROM projects WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Project")
	}
	return p, nil
}

func (s *Store) UpdateProject(ctx context.Context, p *tokend.Project) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE projects SET name = $1, description = $2, type = $3, dbt_project_subdirectory = $4, connection_id = $5,
			repository_id = $6, semantic_layer_config_id = $7, docs_job_id = $8, freshness_job_id = $9, state = $10,
			updated_at = $11
		WHERE account_id = $12 AND id = $13`,
		append(projectArgs(p), p.AccountID, p.ID)...)
	return affected(tag, err, "Project")
}

func (s *Store) ListProjects(ctx context.Context, f tokend.ProjectFilter) ([]*tokend.Project, int, error) {
	var w where
	w.add(`account_id = $%d`, f.AccountID)
	if f.State != 0 {
		w.add(`state = $%d`, int(f.State))
	}
	if f.NameContains != "" {
		w.add(`strpos(lower(name), lower($%d)) > 0`, f.NameContains)
	}
	if f.IDs != nil {
		// A non-nil empty IDs is "none of them": ANY of an empty array matches nothing.
		w.add(`id = ANY($%d)`, idsArg(f.IDs))
	}
	w.ids("id", f.Select)
	// The page and the total in one statement (a window count over the filtered rows): one
	// round trip instead of two. A page past the end has no row to carry the total, so it is
	// counted on its own.
	condArgs := w.args
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+projectCols+`, count(*) OVER () FROM projects WHERE `+w.conds+
		orderBy(f.Order, listOrderColumn, "id")+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	var total int
	ps, err := collect(rows, func(row scanner) (*tokend.Project, error) {
		return scanProject(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &total)...) }))
	})
	if err != nil || len(ps) > 0 || f.Page.Normalize().Offset == 0 {
		return ps, total, err
	}
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM projects WHERE `+w.conds, condArgs...).Scan(&total); err != nil {
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
