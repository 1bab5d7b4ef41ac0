package postgres

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tokend/perm"
)

// Grants live in two tables of one shape (group_permissions, token_permissions); these helpers
// write and read a row of either.

// grantColumns are the columns copyGrants fills after the owner's.
var grantColumns = []string{"permission_set", "all_projects", "project_id", "writable_environment_categories"}

// copyGrants returns grants as COPY rows, each led by the owner's column values. COPY keeps the
// order of the rows, so ids ascend in the order the grants were given.
func copyGrants(owner []any, grants []perm.Grant) pgx.CopyFromSource {
	return pgx.CopyFromSlice(len(grants), func(i int) ([]any, error) {
		g := grants[i]
		row := make([]any, 0, len(owner)+len(grantColumns))
		row = append(row, owner...)
		return append(row, string(g.Set), g.AllProjects, nullID(g.ProjectID), texts(g.WritableEnvironmentCategories)), nil
	})
}

// grantRow is one row of a grants table, as read by loadGroupPermissions and loadTokenPermissions.
type grantRow struct {
	id, owner int64
	grant     perm.Grant
}

// scanGrant reads id, owner id, permission_set, all_projects, project_id and
// writable_environment_categories.
func scanGrant(row scanner) (grantRow, error) {
	var (
		r       grantRow
		set     string
		project pgtype.Int8
		cats    []string
	)
	if err := row.Scan(&r.id, &r.owner, &set, &r.grant.AllProjects, &project, &cats); err != nil {
		return r, err
	}
	r.grant.Set = perm.Set(set)
	r.grant.ProjectID = project.Int64
	r.grant.WritableEnvironmentCategories = nilIfEmpty(cats)
	return r, nil
}
