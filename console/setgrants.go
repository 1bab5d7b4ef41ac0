package console

import (
	"strings"

	"tokend/perm"
)

// resourceWords name perm's resources in the console's words; a resource without an entry
// is named after its identifier.
var resourceWords = map[perm.Resource]string{
	perm.Users:         "users and invitations",
	perm.ServiceTokens: "API tokens",
	perm.Jobs:          "jobs and runs",
	perm.Metadata:      "the metadata API",
	perm.Credentials:   "development credentials",
	perm.Groups:        "groups and their permissions",
}

func resourceName(r perm.Resource) string {
	if w, ok := resourceWords[r]; ok {
		return w
	}
	return strings.ReplaceAll(r.String(), "_", " ")
}

// setGrants says in words what a permission set grants, read from perm's one permission
// table: what it may change, then what it may only see.
func setGrants(s perm.Set) string {
	caps := s.Caps()
	var change, see []string
	for _, r := range perm.Resources() {
		switch {
		case caps.Has(r, perm.Write):
			change = append(change, resourceName(r))
		case caps.Has(r, perm.Read):
			see = append(see, resourceName(r))
		}
	}
	var parts []string
	if len(change) > 0 {
		parts = append(parts, "Changes "+strings.Join(change, ", ")+".")
	}
	if len(see) > 0 {
		verb := "Sees "
		if len(change) > 0 {
			verb = "Only sees "
		}
		parts = append(parts, verb+strings.Join(see, ", ")+".")
	}
	if len(parts) == 0 {
		return "Grants nothing in tokend."
	}
	return strings.Join(parts, " ")
}
