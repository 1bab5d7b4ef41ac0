package perm

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Grant is one permission assignment, held by groups and service tokens: a
// permission set for all projects or for one project.
type Grant struct {
	Set         Set
	AllProjects bool
	ProjectID   int64
	// WritableEnvironmentCategories is recorded and validated but does not
	// change capabilities: tokend has no environment-level resources.
	WritableEnvironmentCategories []string
}

// EnvironmentCategories returns the values writable_environment_categories
// accepts, as in dbt's API (Terraform provider: "all", "development",
// "staging", "production", "other"; "other" is the UI's "General").
func EnvironmentCategories() []string {
	return []string{"development", "staging", "production", "other", "all"}
}

// FieldError is a Grant that fails validation, naming the API field at fault.
type FieldError struct {
	Field  string // e.g. "permission_set", "project_id"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate checks g: a known set; either all projects or one project id > 0,
// not both; environment categories only known ones, and only for sets that
// support them. The error is a *FieldError.
func (g Grant) Validate() error {
	if !g.Set.Valid() {
		return &FieldError{"permission_set", fmt.Sprintf("unknown permission set %q", g.Set)}
	}
	switch {
	case g.AllProjects && g.ProjectID != 0:
		return &FieldError{"project_id", fmt.Sprintf("must be empty when all_projects is true, got %d", g.ProjectID)}
	case !g.AllProjects && g.ProjectID <= 0:
		return &FieldError{"project_id", "required (a project id > 0) when all_projects is false"}
	}
	if len(g.WritableEnvironmentCategories) > 0 && !g.Set.SupportsEnvironmentCategories() {
		return &FieldError{"writable_environment_categories",
			fmt.Sprintf("permission set %q does not take environment write access; only %s do", g.Set, envSetNames())}
	}
	for _, c := range g.WritableEnvironmentCategories {
		if !slices.Contains(EnvironmentCategories(), c) {
			return &FieldError{"writable_environment_categories",
				fmt.Sprintf("unknown category %q: want one of %s", c, strings.Join(EnvironmentCategories(), ", "))}
		}
	}
	return nil
}

func envSetNames() string {
	var names []string
	for _, row := range setTable {
		if row.envWrite {
			names = append(names, string(row.set))
		}
	}
	return strings.Join(names, ", ")
}

// Evaluated is what a principal's grants add up to, computed once per
// principal and then asked many times: Allows does not allocate.
type Evaluated struct {
	account Caps // account-level capabilities, from every grant
	all     Caps // project-level capabilities in every project
	// projects are project-level capabilities in one project, by project id ascending: a
	// slice rather than a map, since a verified principal stays in memory (a map of a few
	// entries costs several times its contents) and a principal has few projects.
	projects []projectCaps
}

type projectCaps struct {
	id   int64
	caps Caps
}

// project returns the capabilities granted in project id alone.
func (e Evaluated) project(id int64) Caps {
	if i, ok := slices.BinarySearchFunc(e.projects, id, cmpProject); ok {
		return e.projects[i].caps
	}
	return 0
}

func cmpProject(p projectCaps, id int64) int { return cmp.Compare(p.id, id) }

// addProject ors c into project id's capabilities, keeping ps sorted.
func addProject(ps []projectCaps, id int64, c Caps) []projectCaps {
	i, ok := slices.BinarySearchFunc(ps, id, cmpProject)
	if ok {
		ps[i].caps |= c
		return ps
	}
	return slices.Insert(ps, i, projectCaps{id: id, caps: c})
}

// Evaluate combines grants: the union of what each grants, where
// account-level capabilities count account-wide whatever a grant's scope,
// and project-level ones only in the grant's projects. A grant with an
// unknown set or a malformed scope (see Validate) contributes nothing.
func Evaluate(grants []Grant) Evaluated {
	accountMask, projectMask := levelMask(AccountLevel), levelMask(ProjectLevel)
	var e Evaluated
	for _, g := range grants {
		c := g.Set.Caps()
		if c == 0 || g.AllProjects == (g.ProjectID > 0) || g.ProjectID < 0 {
			continue
		}
		e.account |= c & accountMask
		if g.AllProjects {
			e.all |= c & projectMask
			continue
		}
		if p := c & projectMask; p != 0 {
			e.projects = addProject(e.projects, g.ProjectID, p)
		}
	}
	// Exactly as long as needed: the evaluation is kept for as long as its principal, and
	// inserting grew the array past its length (8 places for 5 projects).
	if cap(e.projects) > len(e.projects) {
		e.projects = slices.Clone(e.projects)
	}
	return e
}

// Apply returns e under license l (see License.Apply). IT ignores the grants:
// its fixed capabilities apply account-wide and in every project.
func (e Evaluated) Apply(l License) Evaluated {
	switch l {
	case LicenseDeveloper, LicenseAnalyst:
		return e
	case LicenseIT:
		c := l.Apply(0)
		return Evaluated{account: c & levelMask(AccountLevel), all: c & levelMask(ProjectLevel)}
	}
	out := Evaluated{account: l.Apply(e.account), all: l.Apply(e.all)}
	for _, p := range e.projects {
		if c := l.Apply(p.caps); c != 0 {
			if out.projects == nil {
				out.projects = make([]projectCaps, 0, len(e.projects))
			}
			out.projects = append(out.projects, projectCaps{id: p.id, caps: c})
		}
	}
	return out
}

// Allows reports whether e allows a on r in project projectID:
//   - an account-level resource: any grant that carries the capability;
//   - a project-level resource and projectID > 0: an all-projects grant or a
//     grant for that project;
//   - a project-level resource and projectID == 0 (account-wide, e.g. create
//     or list everything): only an all-projects grant.
//
// A negative projectID allows nothing project-level.
func (e Evaluated) Allows(r Resource, a Access, projectID int64) bool {
	switch r.Level() {
	case AccountLevel:
		return e.account.Has(r, a)
	case ProjectLevel:
		switch {
		case e.all.Has(r, a):
			return projectID >= 0
		case projectID > 0:
			return e.project(projectID).Has(r, a)
		}
	}
	return false
}

// AllowsAnyProject reports whether some grant gives a on r for some project
// or all of them; list endpoints use it before filtering with ProjectIDs.
func (e Evaluated) AllowsAnyProject(r Resource, a Access) bool {
	switch r.Level() {
	case AccountLevel:
		return e.account.Has(r, a)
	case ProjectLevel:
		if e.all.Has(r, a) {
			return true
		}
		for _, p := range e.projects {
			if p.caps.Has(r, a) {
				return true
			}
		}
	}
	return false
}

// ProjectIDs returns the projects in which e allows a on r, ascending; all is
// true when that is every project (always so for an account-level resource
// that e allows).
func (e Evaluated) ProjectIDs(r Resource, a Access) (all bool, ids []int64) {
	switch r.Level() {
	case AccountLevel:
		return e.account.Has(r, a), nil
	case ProjectLevel:
		if e.all.Has(r, a) {
			return true, nil
		}
		for _, p := range e.projects { // ascending already
			if p.caps.Has(r, a) {
				ids = append(ids, p.id)
			}
		}
	}
	return false, ids
}

// Covers reports whether e already holds everything g would grant, in g's scope. A principal
// may hand out only what it holds itself, so that a group or token admin cannot mint a grant
// above their own.
func (e Evaluated) Covers(g Grant) bool {
	c := g.Set.Caps()
	accountMask, projectMask := levelMask(AccountLevel), levelMask(ProjectLevel)
	if need := c & accountMask; need&^e.account != 0 {
		return false
	}
	have := e.all
	if !g.AllProjects {
		have |= e.project(g.ProjectID)
	}
	return c&projectMask&^have == 0
}

// AppendKey appends to b an encoding of e: two evaluations encode the same exactly when they
// hold the same capabilities in the same places, so that the key can stand for the evaluation
// when equal ones are shared.
func (e Evaluated) AppendKey(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(e.account))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.all))
	for _, p := range e.projects { // ascending, one entry per project, none empty
		b = binary.LittleEndian.AppendUint64(b, uint64(p.id))
		b = binary.LittleEndian.AppendUint64(b, uint64(p.caps))
	}
	return b
}
