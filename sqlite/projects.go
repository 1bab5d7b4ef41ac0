package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"tokend"
)

const projectCols = `id, account_id, name, description, state, created_at, updated_at`

func scanProject(row interface{ Scan(...any) error }) (*tokend.Project, error) {
	var (
		p                tokend.Project
		created, updated sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.State, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return &p, nil
}

func (s *Store) CreateProject(ctx context.Context, p *tokend.Project) error {
	err := s.writer().QueryRowContext(ctx, `
		INSERT INTO projects (account_id, name, description, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		p.AccountID, p.Name, p.Description, p.State, ts(p.CreatedAt), ts(p.UpdatedAt)).Scan(&p.ID)
	return translate(err)
}

func (s *Store) Project(ctx context.Context, accountID, id int64) (*tokend.Project, error) {
	p, err := scanProject(s.reader().QueryRowContext(ctx,
		`SELECT `+projectCols+` FROM projects WHERE account_id = ? AND id = ?`, accountID, id))
	if err != nil {
		return nil, translateNotFound(err, "Project")
	}
	return p, nil
}

func (s *Store) UpdateProject(ctx context.Context, p *tokend.Project) error {
	res, err := s.writer().ExecContext(ctx, `
		UPDATE projects SET name = ?, description = ?, state = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		p.Name, p.Description, p.State, ts(p.UpdatedAt), p.AccountID, p.ID)
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
	var total int
	if err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit, offset := page(f.Page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+projectCols+` FROM projects WHERE `+where+
		` ORDER BY id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err)
	}
	ps, err := collect(rows, scanProject)
	return ps, total, err
}
