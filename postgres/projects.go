package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"tokend"
)

const projectCols = `id, account_id, name, description, state, created_at, updated_at`

func scanProject(row scanner) (*tokend.Project, error) {
	var (
		p                tokend.Project
		created, updated pgtype.Timestamptz
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.State, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return &p, nil
}

func (s *Store) CreateProject(ctx context.Context, p *tokend.Project) error {
	err := s.q().QueryRow(ctx, `
		INSERT INTO projects (account_id, name, description, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		p.AccountID, p.Name, p.Description, int(p.State), ts(p.CreatedAt), ts(p.UpdatedAt)).Scan(&p.ID)
	return translate(err)
}

func (s *Store) Project(ctx context.Context, accountID, id int64) (*tokend.Project, error) {
	p, err := scanProject(s.q().QueryRow(ctx,
		`SELECT `+projectCols+` FROM projects WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Project")
	}
	return p, nil
}

func (s *Store) UpdateProject(ctx context.Context, p *tokend.Project) error {
	tag, err := s.q().Exec(ctx, `
		UPDATE projects SET name = $1, description = $2, state = $3, updated_at = $4 WHERE account_id = $5 AND id = $6`,
		p.Name, p.Description, int(p.State), ts(p.UpdatedAt), p.AccountID, p.ID)
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
		w.add(`id = ANY($%d)`, f.IDs)
	}
	var total int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM projects WHERE `+w.conds, w.args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, args := w.limit(f.Page)
	rows, err := s.q().Query(ctx, `SELECT `+projectCols+` FROM projects WHERE `+w.conds+` ORDER BY id`+limit, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ps, err := collect(rows, scanProject)
	return ps, total, err
}
