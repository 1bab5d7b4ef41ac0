package perm

import (
	"slices"
	"testing"
)

func TestAdvise(t *testing.T) {
	teamPlan := func(s Set) bool { return PlanTeam.AllowsServiceTokenSet(s) }
	tests := []struct {
		name    string
		uses    []Use
		allowed func(Set) bool
		want    []Grant
	}{
		{"nothing used", nil, nil, nil},
		{"read projects of one project", []Use{{Projects, Read, 7}}, nil,
			[]Grant{{Set: JobViewer, ProjectID: 7}}},
		{"read metadata of two projects", []Use{{Metadata, Read, 7}, {Metadata, Read, 9}}, nil,
			[]Grant{{Set: MetadataOnly, ProjectID: 7}, {Set: MetadataOnly, ProjectID: 9}}},
		{"run jobs in one project", []Use{{Jobs, Write, 3}, {Projects, Read, 3}}, nil,
			[]Grant{{Set: JobCreator, ProjectID: 3}}},
		{"create projects", []Use{{Projects, Write, 0}}, nil,
			[]Grant{{Set: ProjectCreator, AllProjects: true}}},
		{"read the audit log", []Use{{AuditLog, Read, 0}}, nil,
			[]Grant{{Set: AccountViewer, AllProjects: true}}},
		{"manage service tokens", []Use{{ServiceTokens, Write, 0}}, nil,
			[]Grant{{Set: AccountAdmin, AllProjects: true}}},
		{"team plan: metadata in one project", []Use{{Metadata, Read, 4}}, teamPlan,
			[]Grant{{Set: MetadataOnly, ProjectID: 4}}},
		{"all-projects grant covers a project's use", []Use{{Projects, Read, 0}, {Projects, Read, 5}}, nil,
			[]Grant{{Set: JobViewer, AllProjects: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, uncovered := Advise(tt.uses, tt.allowed)
			if len(uncovered) != 0 {
				t.Errorf("uncovered: got %v, want none", uncovered)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b Grant) bool {
				return a.Set == b.Set && a.AllProjects == b.AllProjects && a.ProjectID == b.ProjectID
			}) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			e := Evaluate(got)
			for _, u := range tt.uses {
				if !e.Allows(u.Resource, u.Access, u.ProjectID) {
					t.Errorf("advice %+v refuses observed use %+v", got, u)
				}
			}
		})
	}
}

// Every single capability, used account-wide or in one project, is covered by the advice.
func TestAdviseCoversEveryCapability(t *testing.T) {
	for _, r := range Resources() {
		for _, a := range []Access{Read, Write} {
			for _, p := range []int64{0, 11} {
				uses := []Use{{r, a, p}}
				if len(GrantedBy(r, a)) == 0 {
					continue
				}
				got, uncovered := Advise(uses, nil)
				if len(uncovered) != 0 || !Evaluate(got).Allows(r, a, p) {
					t.Errorf("%s in project %d: got %+v (uncovered %v), want a grant that allows it", Name(r, a), p, got, uncovered)
				}
			}
		}
	}
}

func TestMinus(t *testing.T) {
	from := Evaluate([]Grant{{Set: AccountAdmin, AllProjects: true}})
	to := Evaluate([]Grant{{Set: JobViewer, ProjectID: 7}})
	lost := from.Minus(to)
	if len(lost) != 2 || !lost[0].Account || !lost[1].AllProjects {
		t.Fatalf("got %+v, want account and all-projects losses", lost)
	}
	if got := Evaluate([]Grant{{Set: JobViewer, ProjectID: 7}}).Minus(to); len(got) != 0 {
		t.Errorf("same grants: got %+v, want no loss", got)
	}
}
