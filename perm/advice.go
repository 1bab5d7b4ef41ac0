package perm

import (
	"math/bits"
	"slices"
)

// Use is one capability a token was observed to use: (Resource, Access) in project ProjectID,
// or, with ProjectID zero, account-wide (an account-level resource, or a project-level one
// across every project, as creating or listing all projects is).
type Use struct {
	Resource  Resource
	Access    Access
	ProjectID int64
}

// Names lists c's capabilities by name ("projects:write"), a write standing for its read too.
func (c Caps) Names() []string {
	var out []string
	for r := range numResources {
		switch {
		case c.Has(r, Write):
			out = append(out, Name(r, Write))
		case c.Has(r, Read):
			out = append(out, Name(r, Read))
		}
	}
	return out
}

// Scoped is a set of capabilities in one scope: account-level ones (Account), project-level
// ones in every project (AllProjects), or in project ProjectID.
type Scoped struct {
	Caps        Caps
	Account     bool
	AllProjects bool
	ProjectID   int64
}

// Minus returns what e holds that o does not, scope by scope: what a principal with e's
// grants loses when they become o's. Projects are in ascending order.
func (e Evaluated) Minus(o Evaluated) []Scoped {
	var out []Scoped
	if c := lost(e.account, o.account); c != 0 {
		out = append(out, Scoped{Caps: c, Account: true})
	}
	if c := lost(e.all, o.all); c != 0 {
		out = append(out, Scoped{Caps: c, AllProjects: true})
	}
	for _, p := range e.projects { // ascending already
		if c := lost(p.caps, o.all|o.project(p.id)); c != 0 {
			out = append(out, Scoped{Caps: c, ProjectID: p.id})
		}
	}
	return out
}

// lost is what have allows that keep does not; a lost write is named as such whether or not
// the read stays.
func lost(have, keep Caps) Caps {
	var out Caps
	for r := range numResources {
		switch {
		case have.Has(r, Write) && !keep.Has(r, Write):
			out |= Cap(r, Write)
		case have.Has(r, Read) && !keep.Has(r, Read):
			out |= Cap(r, Read)
		}
	}
	return out
}

// covers reports whether have allows everything need names (a write bit implying read).
func covers(have, need Caps) bool {
	for r := range numResources {
		switch {
		case need.Has(r, Write):
			if !have.Has(r, Write) {
				return false
			}
		case need.Has(r, Read):
			if !have.Has(r, Read) {
				return false
			}
		}
	}
	return true
}

// weight is how much c grants: a read counts 1 and a write 2 on a project-level resource, and
// ten times that on an account-level one, since a grant's account-level capabilities apply
// account-wide whatever its project scope.
func weight(c Caps) int {
	acct := levelMask(AccountLevel)
	w := func(c Caps) int {
		return bits.OnesCount64(uint64(norm(c)&readBits)) + bits.OnesCount64(uint64(c&writeBits))
	}
	return 10*w(c&acct) + w(c&^acct)
}

// Advise returns the narrowest grants that allow every use: an all-projects grant for what
// was used account-wide, and a grant per project for what was used only in that project,
// each scope covered by the permission sets of the table whose extra capabilities weigh least
// (one set where one suffices). allowed restricts the sets (a plan's rule for service tokens);
// nil allows every set. Uses that no allowed set can cover are left out, and returned.
func Advise(uses []Use, allowed func(Set) bool) (grants []Grant, uncovered []Use) {
	var acct, all Caps
	projects := map[int64]Caps{}
	for _, u := range uses {
		c := Cap(u.Resource, u.Access)
		switch {
		case c == 0:
			continue
		case u.Resource.Level() == AccountLevel:
			acct |= c
		case u.ProjectID == 0:
			all |= c
		default:
			projects[u.ProjectID] |= c
		}
	}
	var candidates []setRow
	for _, row := range setTable {
		if row.caps != 0 && (allowed == nil || allowed(row.set)) {
			candidates = append(candidates, row)
		}
	}
	var have Evaluated
	add := func(g Grant) {
		grants = append(grants, g)
		have = Evaluate(grants)
	}
	// Account-wide first: an all-projects grant for the project-level capabilities used across
	// projects, carrying the account-level ones too.
	if need := acct | all; need != 0 {
		for _, s := range cover(candidates, need, 0) {
			add(Grant{Set: s, AllProjects: true})
		}
	}
	ids := make([]int64, 0, len(projects))
	for id := range projects {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		held := have.account | have.all | have.project(id)
		for _, s := range cover(candidates, projects[id], held) {
			add(Grant{Set: s, ProjectID: id})
		}
	}
	for _, u := range uses {
		if Cap(u.Resource, u.Access) != 0 && !have.Allows(u.Resource, u.Access, u.ProjectID) {
			uncovered = append(uncovered, u)
		}
	}
	return grants, uncovered
}

// norm sets the read bit wherever c has a write bit.
func norm(c Caps) Caps { return c | (c&writeBits)>>1 }

// cover picks sets among candidates that together with held allow need: the single set whose
// capabilities beyond held weigh least when one suffices (table order breaks ties), else sets
// chosen greedily by capabilities covered per weight.
func cover(candidates []setRow, need, held Caps) []Set {
	if covers(held, need) {
		return nil
	}
	best, bestW := -1, 0
	for i, row := range candidates {
		if !covers(row.caps|held, need) {
			continue
		}
		if w := weight(row.caps &^ held); best < 0 || w < bestW {
			best, bestW = i, w
		}
	}
	if best >= 0 {
		return []Set{candidates[best].set}
	}
	var out []Set
	for range candidates {
		if covers(held, need) {
			break
		}
		pick, pickGain, pickW := -1, 0, 0
		for i, row := range candidates {
			gain := weight(norm(need)&^norm(held)) - weight(norm(need)&^norm(held|row.caps))
			if gain <= 0 {
				continue
			}
			w := weight(row.caps &^ held)
			if pick < 0 || gain*pickW > pickGain*w {
				pick, pickGain, pickW = i, gain, w
			}
		}
		if pick < 0 {
			break
		}
		out = append(out, candidates[pick].set)
		held |= candidates[pick].caps
	}
	return out
}

// Scopes lists everything e allows, scope by scope (as Minus does).
func (e Evaluated) Scopes() []Scoped { return e.Minus(Evaluated{}) }

// EvaluateUses is exactly the capabilities uses name, in their scopes: what a principal that
// held only what it used would hold.
func EvaluateUses(uses []Use) Evaluated {
	var e Evaluated
	for _, u := range uses {
		c := Cap(u.Resource, u.Access)
		switch {
		case c == 0:
		case u.Resource.Level() == AccountLevel:
			e.account |= c
		case u.ProjectID == 0:
			e.all |= c
		default:
			e.projects = addProject(e.projects, u.ProjectID, c)
		}
	}
	return e
}
