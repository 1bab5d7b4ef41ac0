package tokend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tokend/perm"
)

// MaxGrants bounds the grants one group or service token may hold.
const MaxGrants = 1000

// checkGrants validates grants for accountID: each is well-formed, names a project of this
// account, and is no more than p holds itself (no one hands out what they do not have).
// field prefixes error fields, e.g. "permissions".
func (s *Service) checkGrants(ctx context.Context, st Store, p *Principal, accountID AccountID, grants []perm.Grant) error {
	if len(grants) > MaxGrants {
		return Invalidf("permissions", "At most %d permissions may be set at once, got %d.", MaxGrants, len(grants))
	}
	seen := map[int64]bool{}
	for i, g := range grants {
		if err := g.Validate(); err != nil {
			var fe *perm.FieldError
			if errors.As(err, &fe) {
				return Invalidf(fmt.Sprintf("[%d].%s", i, fe.Field), "Permission %d: %s: %s.", i, fe.Field, fe.Reason)
			}
			return Invalidf(fmt.Sprintf("[%d]", i), "Permission %d: %s.", i, err)
		}
		if g.ProjectID != 0 && !seen[g.ProjectID] {
			if _, err := st.Project(ctx, accountID, ProjectID(g.ProjectID)); err != nil {
				if isNotFound(err) {
					return Invalidf(fmt.Sprintf("[%d].project_id", i), "Permission %d: project %d does not exist in account %d.", i, g.ProjectID, accountID)
				}
				return err
			}
			seen[g.ProjectID] = true
		}
		if !p.Covers(g) {
			return Errorf(EForbidden, "Permission %d: you cannot grant %s (%s) because you do not hold it yourself in that scope.", i, g.Set.Label(), g.Set)
		}
	}
	return nil
}

// coversGroup refuses p unless it holds every grant of g.
func coversGroup(p *Principal, g *Group) error {
	for _, gr := range g.Grants() {
		if !p.Covers(gr) {
			return Errorf(EForbidden, "You cannot change group %q (%d) or its members: it grants %s (%s), which you do not hold yourself in that scope.",
				g.Name, g.ID, gr.Set.Label(), gr.Set)
		}
	}
	return nil
}

// mergeGrants collapses grants of the same set and scope into one, in first-seen order, with
// the union of their writable environment categories.
func mergeGrants(in []perm.Grant) []perm.Grant {
	type key struct {
		set     perm.Set
		all     bool
		project int64
	}
	at := make(map[key]int, len(in))
	out := make([]perm.Grant, 0, len(in))
	for _, g := range in {
		k := key{g.Set, g.AllProjects, g.ProjectID}
		i, seen := at[k]
		if !seen {
			at[k] = len(out)
			g.WritableEnvironmentCategories = slices.Clone(g.WritableEnvironmentCategories)
			out = append(out, g)
			continue
		}
		for _, c := range g.WritableEnvironmentCategories {
			if !slices.Contains(out[i].WritableEnvironmentCategories, c) {
				out[i].WritableEnvironmentCategories = append(out[i].WritableEnvironmentCategories, c)
			}
		}
	}
	return out
}

// describeGrants renders grants for the audit log, e.g. "account_admin@all job_admin@project:3".
func describeGrants(grants []perm.Grant) string {
	parts := make([]string, len(grants))
	for i, g := range grants {
		scope := "all"
		if !g.AllProjects {
			scope = "project:" + strconv.FormatInt(g.ProjectID, 10)
		}
		parts[i] = string(g.Set) + "@" + scope
		if len(g.WritableEnvironmentCategories) > 0 {
			parts[i] += "[" + strings.Join(g.WritableEnvironmentCategories, ",") + "]"
		}
	}
	return strings.Join(parts, " ")
}

// coversLicense refuses p a license whose own rights p does not hold: IT carries Security Admin
// and Billing Admin whatever the groups.
func coversLicense(p *Principal, l perm.License) error {
	if l != perm.LicenseIT {
		return nil
	}
	for _, set := range []perm.Set{perm.SecurityAdmin, perm.BillingAdmin} {
		if !p.Covers(perm.Grant{Set: set, AllProjects: true}) {
			return Errorf(EForbidden, "You cannot give the IT license: it carries %s (%s), which you do not hold yourself.", set.Label(), set)
		}
	}
	return nil
}

// sameGrant reports whether a and b grant the same set in the same scope.
func sameGrant(a, b perm.Grant) bool {
	return a.Set == b.Set && a.AllProjects == b.AllProjects && a.ProjectID == b.ProjectID &&
		slices.Equal(a.WritableEnvironmentCategories, b.WritableEnvironmentCategories)
}

// grantSummary renders grants for an audit event: "job_admin@all, developer@7".
func grantSummary(grants []perm.Grant) string {
	parts := make([]string, len(grants))
	for i, g := range grants {
		scope := "all"
		if !g.AllProjects {
			scope = fmt.Sprint(g.ProjectID)
		}
		parts[i] = string(g.Set) + "@" + scope
	}
	s := strings.Join(parts, ", ")
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}
