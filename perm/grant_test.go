package perm

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestGrantValidate(t *testing.T) {
	tests := []struct {
		name    string
		grant   Grant
		field   string // "" when valid
		mention string
	}{
		{"all projects", Grant{Set: AccountAdmin, AllProjects: true}, "", ""},
		{"one project", Grant{Set: JobAdmin, ProjectID: 3}, "", ""},
		{"categories on developer", Grant{Set: Developer, ProjectID: 3,
			WritableEnvironmentCategories: []string{"development", "staging"}}, "", ""},
		{"every category", Grant{Set: Analyst, AllProjects: true,
			WritableEnvironmentCategories: []string{"development", "staging", "production", "other", "all"}}, "", ""},
		{"empty categories on job_admin", Grant{Set: JobAdmin, AllProjects: true,
			WritableEnvironmentCategories: []string{}}, "", ""},
		{"unknown set", Grant{Set: "superuser", AllProjects: true}, "permission_set", `"superuser"`},
		{"empty set", Grant{AllProjects: true}, "permission_set", "unknown"},
		{"both scopes", Grant{Set: Admin, AllProjects: true, ProjectID: 3}, "project_id", "all_projects"},
		{"no scope", Grant{Set: Admin}, "project_id", "required"},
		{"negative project", Grant{Set: Admin, ProjectID: -1}, "project_id", "required"},
		{"negative project with all", Grant{Set: Admin, AllProjects: true, ProjectID: -1}, "project_id", "empty"},
		{"unknown category", Grant{Set: Developer, AllProjects: true,
			WritableEnvironmentCategories: []string{"general"}}, "writable_environment_categories", `"general"`},
		{"category case", Grant{Set: Developer, AllProjects: true,
			WritableEnvironmentCategories: []string{"Production"}}, "writable_environment_categories", `"Production"`},
		{"categories on job_admin", Grant{Set: JobAdmin, AllProjects: true,
			WritableEnvironmentCategories: []string{"production"}}, "writable_environment_categories", "job_admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.grant.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v (%T), want a *FieldError", err, err)
			}
			if fe.Field != tt.field {
				t.Errorf("field: got %q, want %q", fe.Field, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("message: got %q, want it to start with %q and mention %q", err, tt.field, tt.mention)
			}
		})
	}
}

func TestAllowsScopes(t *testing.T) {
	tests := []struct {
		name    string
		grants  []Grant
		r       Resource
		a       Access
		project int64
		want    bool
	}{
		// Account-level resource: any grant carrying it, whatever its scope.
		{"account-level from a project grant", []Grant{{Set: Admin, ProjectID: 5}}, Users, Write, 0, true},
		{"account-level from a project grant, other project", []Grant{{Set: Admin, ProjectID: 5}}, Users, Write, 9, true},
		{"account-level from an all-projects grant", []Grant{{Set: SecurityAdmin, AllProjects: true}}, IPRestrictions, Write, 0, true},
		{"account-level not carried", []Grant{{Set: Developer, AllProjects: true}}, Billing, Read, 0, false},
		{"account-level read only", []Grant{{Set: Developer, ProjectID: 5}}, Users, Write, 0, false},

		// Project-level resource in a project.
		{"project grant, its project", []Grant{{Set: JobAdmin, ProjectID: 5}}, Jobs, Write, 5, true},
		{"project grant, another project", []Grant{{Set: JobAdmin, ProjectID: 5}}, Jobs, Read, 6, false},
		{"all-projects grant, any project", []Grant{{Set: JobAdmin, AllProjects: true}}, Jobs, Write, 6, true},
		{"read in all, write in one", []Grant{{Set: JobViewer, AllProjects: true}, {Set: JobAdmin, ProjectID: 5}}, Jobs, Write, 5, true},
		{"read in all, write in one, other project", []Grant{{Set: JobViewer, AllProjects: true}, {Set: JobAdmin, ProjectID: 5}}, Jobs, Write, 6, false},
		{"read in all, write in one, other project read", []Grant{{Set: JobViewer, AllProjects: true}, {Set: JobAdmin, ProjectID: 5}}, Jobs, Read, 6, true},

		// Project-level resource account-wide.
		{"account-wide from all-projects grant", []Grant{{Set: ProjectCreator, AllProjects: true}}, Projects, Write, 0, true},
		{"account-wide from a project grant", []Grant{{Set: ProjectCreator, ProjectID: 5}}, Projects, Write, 0, false},
		{"account-wide read from a project grant", []Grant{{Set: Developer, ProjectID: 5}}, Projects, Read, 0, false},

		{"no grants", nil, Jobs, Read, 5, false},
		{"negative project", []Grant{{Set: AccountAdmin, AllProjects: true}}, Jobs, Read, -1, false},
		{"invalid resource", []Grant{{Set: AccountAdmin, AllProjects: true}}, numResources, Read, 0, false},
		{"malformed grant ignored", []Grant{{Set: AccountAdmin}}, Users, Read, 0, false},
		{"grant with both scopes ignored", []Grant{{Set: AccountAdmin, AllProjects: true, ProjectID: 5}}, Users, Read, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.grants).Allows(tt.r, tt.a, tt.project); got != tt.want {
				t.Errorf("Allows(%v, %v, %d): got %v, want %v", tt.r, tt.a, tt.project, got, tt.want)
			}
		})
	}
}

func TestAllowsAnyProjectAndProjectIDs(t *testing.T) {
	grants := []Grant{
		{Set: JobAdmin, ProjectID: 9},
		{Set: JobViewer, ProjectID: 2},
		{Set: JobAdmin, ProjectID: 4},
		{Set: MetadataOnly, AllProjects: true},
	}
	e := Evaluate(grants)
	tests := []struct {
		name string
		r    Resource
		a    Access
		any  bool
		all  bool
		ids  []int64
	}{
		{"jobs write in two projects", Jobs, Write, true, false, []int64{4, 9}},
		{"jobs read in three", Jobs, Read, true, false, []int64{2, 4, 9}},
		{"metadata everywhere", Metadata, Read, true, true, nil},
		{"credentials nowhere", Credentials, Write, false, false, nil},
		{"account-level licenses", Licenses, Read, true, true, nil},
		{"account-level not held", Billing, Read, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.AllowsAnyProject(tt.r, tt.a); got != tt.any {
				t.Errorf("AllowsAnyProject: got %v, want %v", got, tt.any)
			}
			all, ids := e.ProjectIDs(tt.r, tt.a)
			if all != tt.all || !slices.Equal(ids, tt.ids) {
				t.Errorf("ProjectIDs: got %v, %v; want %v, %v", all, ids, tt.all, tt.ids)
			}
		})
	}
}

func TestEvaluatedApplyDoesNotMutate(t *testing.T) {
	e := Evaluate([]Grant{{Set: JobAdmin, ProjectID: 5}})
	ro := e.Apply(LicenseReadOnly)
	if ro.Allows(Jobs, Write, 5) {
		t.Errorf("read_only: Allows(jobs, write, 5) = true, want false")
	}
	if !ro.Allows(Jobs, Read, 5) {
		t.Errorf("read_only: Allows(jobs, read, 5) = false, want true")
	}
	if !e.Allows(Jobs, Write, 5) {
		t.Errorf("after Apply, original Allows(jobs, write, 5) = false, want true")
	}
	if got := e.Apply(License("bogus")); got.AllowsAnyProject(Jobs, Read) || got.Allows(Licenses, Read, 0) {
		t.Errorf("unknown license still allows something")
	}
}

func TestAllowsDoesNotAllocate(t *testing.T) {
	e := Evaluate([]Grant{
		{Set: Developer, ProjectID: 5},
		{Set: JobAdmin, ProjectID: 7},
		{Set: JobViewer, AllProjects: true},
	}).Apply(LicenseDeveloper)
	var sink bool
	allocs := testing.AllocsPerRun(1000, func() {
		sink = e.Allows(Jobs, Write, 7)
		sink = e.Allows(Users, Read, 0) || sink
		sink = e.Allows(Credentials, Write, 5) || sink
		sink = e.Allows(Credentials, Write, 6) || sink
		sink = e.AllowsAnyProject(Environments, Write) || sink
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per run, want 0", allocs)
	}
	_ = sink
}

func BenchmarkAllows(b *testing.B) {
	grants := []Grant{{Set: JobViewer, AllProjects: true}}
	for id := int64(1); id <= 50; id++ {
		grants = append(grants, Grant{Set: Developer, ProjectID: id})
	}
	e := Evaluate(grants).Apply(LicenseDeveloper)
	b.ReportAllocs()
	var sink bool
	for i := 0; b.Loop(); i++ {
		sink = e.Allows(Credentials, Write, int64(i%60+1))
	}
	_ = sink
}

func TestCovers(t *testing.T) {
	admin := Evaluate([]Grant{{Set: AccountAdmin, AllProjects: true}})
	devIn7 := Evaluate([]Grant{{Set: Developer, ProjectID: 7}})
	tests := []struct {
		name string
		e    Evaluated
		g    Grant
		want bool
	}{
		{"admin covers anything", admin, Grant{Set: JobAdmin, ProjectID: 3}, true},
		{"admin covers admin", admin, Grant{Set: AccountAdmin, AllProjects: true}, true},
		{"developer in 7 covers developer in 7", devIn7, Grant{Set: Developer, ProjectID: 7}, true},
		{"developer in 7 does not cover developer in 8", devIn7, Grant{Set: Developer, ProjectID: 8}, false},
		{"developer in 7 does not cover developer everywhere", devIn7, Grant{Set: Developer, AllProjects: true}, false},
		{"developer does not cover account admin", devIn7, Grant{Set: AccountAdmin, AllProjects: true}, false},
		{"nothing covers security admin", Evaluated{}, Grant{Set: SecurityAdmin, AllProjects: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Covers(tt.g); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluatedAppendKey(t *testing.T) {
	g := func(set Set, project int64) Grant {
		return Grant{Set: set, AllProjects: project == 0, ProjectID: project}
	}
	type grants struct {
		name   string
		grants []Grant
	}
	evals := []grants{
		{"nothing", nil},
		{"developer everywhere", []Grant{g(Developer, 0)}},
		{"developer in project 1", []Grant{g(Developer, 1)}},
		{"developer in project 2", []Grant{g(Developer, 2)}},
		{"analyst in project 1", []Grant{g(Analyst, 1)}},
		{"developer in projects 1 and 2", []Grant{g(Developer, 1), g(Developer, 2)}},
		{"account admin", []Grant{g(AccountAdmin, 0)}},
	}
	// Every set everywhere, in project 1, and in project 1 beside developer everywhere: sets
	// that differ only in what they allow in every project, or only in one project.
	for _, set := range Sets() {
		evals = append(evals,
			grants{string(set) + " everywhere", []Grant{g(set, 0)}},
			grants{string(set) + " in project 1", []Grant{g(set, 1)}},
			grants{string(set) + " in project 1, developer everywhere", []Grant{g(set, 1), g(Developer, 0)}})
	}
	// A key is equal to another exactly when the two evaluations are: principals share rights
	// by key (the Service's rightsPool), so two that may do different things must not share one.
	type keyed struct {
		name string
		e    Evaluated
		key  string
	}
	var all []keyed
	for _, e := range evals {
		ev := Evaluate(e.grants)
		all = append(all, keyed{e.name, ev, string(ev.AppendKey(nil))})
	}
	for i, a := range all {
		for _, b := range all[i+1:] {
			if same := reflect.DeepEqual(a.e, b.e); same != (a.key == b.key) {
				t.Errorf("%s and %s: equal evaluations %v, equal keys %v", a.name, b.name, same, a.key == b.key)
			}
		}
	}
	t.Run("the same grants in another order", func(t *testing.T) {
		a := Evaluate([]Grant{g(Developer, 2), g(Analyst, 1), g(Developer, 0)}).AppendKey(nil)
		b := Evaluate([]Grant{g(Developer, 0), g(Analyst, 1), g(Developer, 2)}).AppendKey(nil)
		if string(a) != string(b) {
			t.Errorf("got %x and %x, want equal keys", a, b)
		}
	})
}
