package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tokend"
)

// scanner is what pgx.Row and pgx.Rows share.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// translateNotFound names the missing object.
func translateNotFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what)
	}
	return translate(err)
}

// affected turns "no row changed" into ENotFound.
func affected(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(what)
	}
	return nil
}

// where builds the conditions of a list query with numbered parameters.
type where struct {
	conds string
	args  []any
}

// add appends cond, in which %d stands for the number of arg's parameter.
func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	if w.conds != "" {
		w.conds += " AND "
	}
	w.conds += fmt.Sprintf(cond, len(w.args))
}

// and appends cond, which takes no parameter.
func (w *where) and(cond string) {
	if w.conds != "" {
		w.conds += " AND "
	}
	w.conds += cond
}

// limit returns the LIMIT and OFFSET clause of the normalized page p, numbered after w's
// parameters, and the arguments of the whole query.
func (w *where) limit(p tokend.Page) (string, []any) {
	p = p.Normalize()
	n := len(w.args)
	return fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2), append(w.args[:n:n], p.Limit, p.Offset)
}

// ids adds dbt's id filters (pk, pk__gt, pk__in) on column col.
func (w *where) ids(col string, sel tokend.IDSelect) {
	if sel.Eq != 0 {
		w.add(col+` = $%d`, sel.Eq)
	}
	if sel.Gt != 0 {
		w.add(col+` > $%d`, sel.Gt)
	}
	if sel.In != nil {
		// An empty list selects nothing: ANY of an empty array matches no row.
		w.add(col+` = ANY($%d)`, sel.In)
	}
}

// orderBy is the ORDER BY clause for o: column maps a field to its SQL expression ("" for a
// field the list cannot be ordered by, which the service has refused already; it falls back to
// id). Ties go by idCol in the same direction.
func orderBy(o tokend.Order, column func(field string) string, idCol string) string {
	dir := ""
	if o.Desc {
		dir = " DESC"
	}
	if c := column(o.Field); c != "" && c != idCol {
		return " ORDER BY " + c + dir + ", " + idCol + dir
	}
	return " ORDER BY " + idCol + dir
}
