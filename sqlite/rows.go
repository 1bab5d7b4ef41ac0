package sqlite

import (
	"database/sql"
	"errors"
	"strings"

	"tokend"
)

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, v)
	}
	return out, translate(rows.Err())
}

// translateNotFound names the missing object.
func translateNotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	return translate(err)
}

// affected turns "no row changed" into ENotFound.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// prefixed qualifies a column list with a table alias: "id, name" → "a.id, a.name".
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// idSelect adds dbt's id filters (pk, pk__gt, pk__in) on column col to where. It reports false
// when the filters select nothing (an empty pk__in).
func idSelect(where string, args []any, col string, sel tokend.IDSelect) (string, []any, bool) {
	if sel.Eq != 0 {
		where += ` AND ` + col + ` = ?`
		args = append(args, sel.Eq)
	}
	if sel.Gt != 0 {
		where += ` AND ` + col + ` > ?`
		args = append(args, sel.Gt)
	}
	if sel.In != nil {
		if len(sel.In) == 0 {
			return where, args, false
		}
		where += ` AND ` + col + ` IN (?` + strings.Repeat(", ?", len(sel.In)-1) + `)`
		for _, id := range sel.In {
			args = append(args, id)
		}
	}
	return where, args, true
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
