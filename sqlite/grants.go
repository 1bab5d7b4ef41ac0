package sqlite

import (
	"database/sql"
	"encoding/json"

	"tokend/internal/verifyrow"
	"tokend/perm"
)

// Grants live in two tables of one shape (group_permissions, token_permissions); these helpers
// encode and decode a row of either.

func encodeCategories(c []string) string {
	if len(c) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(c) // a []string always marshals
	return string(b)
}

func decodeGrant(set string, all bool, project sql.NullInt64, cats string) (perm.Grant, error) {
	g := perm.Grant{Set: perm.Set(set), AllProjects: all, ProjectID: project.Int64}
	var err error
	g.WritableEnvironmentCategories, err = verifyrow.Categories(cats)
	return g, err
}
