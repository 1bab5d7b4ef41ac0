package tokend

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tokend/perm"
)

// Project is a unit inside an account; grants may be for all projects or for one.
type Project struct {
	ID          ProjectID
	AccountID   AccountID
	Name        string
	Description string
	Type        ProjectType
	// Subdirectory is where the dbt project sits in its repository; empty: not set.
	Subdirectory string
	// Refs are the connection, repository and jobs the project points at in dbt. tokend holds
	// none of those objects; it keeps the ids a client writes, so they come back as sent.
	Refs      ProjectRefs
	State     State
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProjectType is dbt's project type.
type ProjectType int

const (
	ProjectDefault ProjectType = 0
	ProjectHybrid  ProjectType = 1
)

// ProjectRefs are the ids of objects a dbt project points at; zero: not set.
type ProjectRefs struct {
	ConnectionID          int64
	RepositoryID          int64
	SemanticLayerConfigID int64
	DocsJobID             int64
	FreshnessJobID        int64
}

// ProjectFilter selects projects of one account.
type ProjectFilter struct {
	AccountID AccountID
	State     State // zero: any
	// NameContains matches names case-insensitively (ASCII); empty: no filter.
	NameContains string
	// IDs, when non-nil, restricts the list to these projects (used to show only what a
	// principal may read).
	IDs []ProjectID
	// Select is what the client asked for by id (pk, pk__gt, pk__in), on top of IDs.
	Select IDSelect
	Order  Order
	Page
}

// ListProjects lists the account's projects the principal may read: all of them with an
// all-projects grant, else only those its project grants name.
func (s *Service) ListProjects(ctx context.Context, p *Principal, accountID AccountID, f ProjectFilter) ([]*Project, int, error) {
	if err := checkAccount(p, accountID); err != nil {
		return nil, 0, err
	}
	all, ids := p.ProjectIDs(perm.Projects, perm.Read)
	if !all && len(ids) == 0 {
		e := Errorf(EForbidden, "Permission denied: this token lacks read access to projects in any project.")
		e.Missing = missingOf(p, perm.Projects, perm.Read)
		return nil, 0, e
	}
	if f.State != 0 && !f.State.Valid() {
		return nil, 0, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", f.State)
	}
	if err := checkText("name__icontains", f.NameContains); err != nil {
		return nil, 0, err
	}
	if err := checkOrder(f.Order, "name", "created_at", "updated_at"); err != nil {
		return nil, 0, err
	}
	f.AccountID = accountID
	f.IDs = nil
	if !all {
		f.IDs = ids
	}
	f.Page = f.Page.Normalize()
	if ps, total, ok, err := s.listProjectsFromMemory(ctx, f); ok || err != nil {
		return ps, total, err
	}
	return s.store.ListProjects(ctx, f)
}

// accountProjects is every project of an account (every state), ordered by id, or only that
// the account has more than one page of them (tooMany), which are left to the store.
type accountProjects struct {
	all     []*Project
	tooMany bool
}

// listProjectsFromMemory answers a plain list (no name filter, no selection by id, ordered by
// id ascending: what a client that pages through its projects asks) from the account's
// projects held in memory, with the store's semantics: filtered by state and by the
// principal's projects, the total counted over the filtered rows, the page cut from them.
// ok is false for any other list, for an account with more than MaxLimit projects, and
// while the node does not trust its caches; the store answers those.
//
// The projects are one cached value per account under the discipline of every cache (see
// cache.go): every project write invalidates the account's projects, and only them
// (Invalidation.Projects; CreateProject, UpdateProject), so the change feed drops them on
// every node, and a read that raced an invalidation is not put.
func (s *Service) listProjectsFromMemory(ctx context.Context, f ProjectFilter) ([]*Project, int, bool, error) {
	if f.NameContains != "" || f.Select.Eq != 0 || f.Select.Gt != 0 || f.Select.In != nil ||
		f.Order.Desc || (f.Order.Field != "" && f.Order.Field != "id") {
		return nil, 0, false, nil
	}
	now := s.now()
	if !s.trusted(now) {
		return nil, 0, false, nil
	}
	set, ok := s.projects.get(f.AccountID, now)
	if !ok {
		gen := s.cache.generation()
		ps, total, err := s.store.ListProjects(ctx, ProjectFilter{AccountID: f.AccountID, Page: Page{Limit: MaxLimit}})
		if err != nil {
			return nil, 0, false, err
		}
		set = accountProjects{all: ps, tooMany: total > len(ps)}
		if s.cache.generation() == gen {
			s.projects.put(f.AccountID, set, now)
		}
	}
	if set.tooMany {
		return nil, 0, false, nil
	}
	if f.IDs != nil && len(f.IDs) == 0 {
		return nil, 0, true, nil
	}
	var page []*Project
	total := 0
	for i, p := range set.all {
		if (f.State != 0 && p.State != f.State) || (f.IDs != nil && !slices.Contains(f.IDs, p.ID)) {
			continue
		}
		if total >= f.Offset && len(page) < f.Limit {
			if page == nil { // once, with room for the rest: a page grown by append allocated six times for 20 projects
				page = make([]*Project, 0, min(f.Limit, len(set.all)-i))
			}
			page = append(page, p)
		}
		total++
	}
	return page, total, true, nil
}

// Project returns one project; it needs read access to projects in that project. A deleted
// project is not found, as in dbt: Terraform forgets a resource only on a 404. (A list with
// ?state=2 still shows deleted ones.)
func (s *Service) Project(ctx context.Context, p *Principal, accountID AccountID, id ProjectID) (*Project, error) {
	if err := authorize(p, accountID, perm.Projects, perm.Read, id); err != nil {
		return nil, err
	}
	pr, err := s.store.Project(ctx, accountID, id)
	if err == nil && pr.State != StateActive {
		err = projectNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return pr, nil
}

func projectNotFound(id ProjectID) error { return Errorf(ENotFound, "Project %d not found.", id) }

// ProjectInput describes a new project.
type ProjectInput struct {
	Name         string
	Description  string
	Type         ProjectType
	Subdirectory string
	Refs         ProjectRefs
}

// CreateProject creates a project; it needs write access to projects in every project (an
// all-projects grant), which is what creating one takes in dbt.
func (s *Service) CreateProject(ctx context.Context, p *Principal, accountID AccountID, in ProjectInput) (*Project, error) {
	if err := authorize(p, accountID, perm.Projects, perm.Write, 0); err != nil {
		return nil, err
	}
	name, err := projectName(in.Name)
	if err != nil {
		return nil, err
	}
	desc, err := projectDescription(in.Description)
	if err != nil {
		return nil, err
	}
	if err := checkProjectType(in.Type); err != nil {
		return nil, err
	}
	sub, err := projectSubdirectory(in.Subdirectory)
	if err != nil {
		return nil, err
	}
	if err := in.Refs.check(); err != nil {
		return nil, err
	}
	now := s.now()
	pr := &Project{AccountID: accountID, Name: name, Description: desc, Type: in.Type, Subdirectory: sub,
		Refs: in.Refs, State: StateActive, CreatedAt: now, UpdatedAt: now}
	err = s.change(ctx, func(st *txn) error {
		if err := st.CreateProject(ctx, pr); err != nil {
			return err
		}
		st.invalidate(Invalidation{AccountID: accountID, Projects: true}) // listProjectsFromMemory
		e := event(ctx, p, accountID, "project.create", "project", pr.ID)
		e.Detail = map[string]string{"name": name}
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// ProjectUpdate carries the fields an update may change; nil leaves a field alone. State 2
// deletes the project, state 1 restores it. A pointer to "" or to a zero ref clears it.
type ProjectUpdate struct {
	Name         *string
	Description  *string
	Type         *ProjectType
	Subdirectory *string
	Refs         ProjectRefUpdate
	State        *State
}

// ProjectRefUpdate carries the refs an update may change; nil leaves one alone, zero clears it.
type ProjectRefUpdate struct {
	ConnectionID, RepositoryID, SemanticLayerConfigID, DocsJobID, FreshnessJobID *int64
}

// UpdateProject changes a project; it needs write access to projects in that project. Grants
// scoped to a deleted project stay, inert: nothing can be done in a deleted project, and they
// count again if it is restored.
func (s *Service) UpdateProject(ctx context.Context, p *Principal, accountID AccountID, id ProjectID, u ProjectUpdate) (*Project, error) {
	if err := authorize(p, accountID, perm.Projects, perm.Write, id); err != nil {
		return nil, err
	}
	var (
		name, desc string
		err        error
	)
	if u.Name != nil {
		if name, err = projectName(*u.Name); err != nil {
			return nil, err
		}
	}
	if u.Description != nil {
		if desc, err = projectDescription(*u.Description); err != nil {
			return nil, err
		}
	}
	if u.State != nil && !u.State.Valid() {
		return nil, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", *u.State)
	}
	if u.Type != nil {
		if err := checkProjectType(*u.Type); err != nil {
			return nil, err
		}
	}
	var sub string
	if u.Subdirectory != nil {
		if sub, err = projectSubdirectory(*u.Subdirectory); err != nil {
			return nil, err
		}
	}
	if err := u.Refs.check(); err != nil {
		return nil, err
	}
	var out *Project
	err = s.change(ctx, func(st *txn) error {
		pr, err := st.Project(ctx, accountID, id)
		if err != nil {
			return err
		}
		changed := map[string]string{}
		deleted := false
		if u.Name != nil && name != pr.Name {
			changed["name"] = name
			pr.Name = name
		}
		if u.Description != nil && desc != pr.Description {
			changed["description"] = desc
			pr.Description = desc
		}
		if u.Type != nil && *u.Type != pr.Type {
			changed["type"] = strconv.Itoa(int(*u.Type))
			pr.Type = *u.Type
		}
		if u.Subdirectory != nil && sub != pr.Subdirectory {
			changed["dbt_project_subdirectory"] = sub
			pr.Subdirectory = sub
		}
		u.Refs.apply(&pr.Refs, changed)
		if u.State != nil && *u.State != pr.State {
			changed["state"] = strconv.Itoa(int(*u.State))
			pr.State = *u.State
			deleted = pr.State == StateDeleted
		}
		out = pr
		if len(changed) == 0 {
			return nil
		}
		pr.UpdatedAt = s.now()
		if err := st.UpdateProject(ctx, pr); err != nil {
			return err
		}
		action := "project.update"
		if deleted {
			action = "project.delete"
		}
		// The account's projects (listProjectsFromMemory), and nothing else: grants scoped
		// to a deleted project stay in cached principals as in the store, inert, since every
		// read in a project reads its row.
		st.invalidate(Invalidation{AccountID: accountID, Projects: true})
		e := event(ctx, p, accountID, action, "project", id)
		e.Detail = changed
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteProject marks a project deleted (state 2) and returns it; a project already deleted
// is not found, as a GET of it is.
func (s *Service) DeleteProject(ctx context.Context, p *Principal, accountID AccountID, id ProjectID) (*Project, error) {
	if err := authorize(p, accountID, perm.Projects, perm.Write, id); err != nil {
		return nil, err
	}
	pr, err := s.store.Project(ctx, accountID, id)
	if err == nil && pr.State != StateActive {
		err = projectNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	st := StateDeleted
	return s.UpdateProject(ctx, p, accountID, id, ProjectUpdate{State: &st})
}

func checkProjectType(t ProjectType) error {
	if t != ProjectDefault && t != ProjectHybrid {
		return Invalidf("type", "The project type must be 0 (default) or 1 (hybrid), got %d.", t)
	}
	return nil
}

// projectSubdirectory checks a project's subdirectory: a relative path in the repository.
func projectSubdirectory(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 255 {
		return "", Invalidf("dbt_project_subdirectory", "The project subdirectory must be at most 255 characters.")
	}
	if strings.ContainsAny(s, "\x00\n\r") {
		return "", Invalidf("dbt_project_subdirectory", "The project subdirectory must be a path on one line.")
	}
	return s, nil
}

// refFields names each ref as the API does.
func (r *ProjectRefs) fields() []struct {
	name string
	v    *int64
} {
	return []struct {
		name string
		v    *int64
	}{
		{"connection_id", &r.ConnectionID}, {"repository_id", &r.RepositoryID},
		{"semantic_layer_config_id", &r.SemanticLayerConfigID}, {"docs_job_id", &r.DocsJobID},
		{"freshness_job_id", &r.FreshnessJobID},
	}
}

func checkRef(name string, v int64) error {
	if v < 0 {
		return Invalidf(name, "%q must be a positive id, got %d.", name, v)
	}
	return nil
}

func (r ProjectRefs) check() error {
	for _, f := range r.fields() {
		if err := checkRef(f.name, *f.v); err != nil {
			return err
		}
	}
	return nil
}

func (u ProjectRefUpdate) pointers() []*int64 {
	return []*int64{u.ConnectionID, u.RepositoryID, u.SemanticLayerConfigID, u.DocsJobID, u.FreshnessJobID}
}

func (u ProjectRefUpdate) check() error {
	var r ProjectRefs
	for i, f := range r.fields() {
		if p := u.pointers()[i]; p != nil {
			if err := checkRef(f.name, *p); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply writes the refs u names into r, noting each change in changed.
func (u ProjectRefUpdate) apply(r *ProjectRefs, changed map[string]string) {
	for i, f := range r.fields() {
		if p := u.pointers()[i]; p != nil && *p != *f.v {
			changed[f.name] = strconv.FormatInt(*p, 10)
			*f.v = *p
		}
	}
}

func projectName(s string) (string, error) {
	if err := checkText("name", s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalidf("name", "The project name must not be empty.")
	}
	if utf8.RuneCountInString(s) > 255 {
		return "", Invalidf("name", "The project name must be at most 255 characters.")
	}
	return s, nil
}

// maxDescription bounds a project's description.
const maxDescription = 4096

func projectDescription(s string) (string, error) {
	if err := checkText("description", s); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(s) > maxDescription {
		return "", Invalidf("description", "The project description must be at most %d characters.", maxDescription)
	}
	return s, nil
}

// activeProject returns project id of the account, refusing a missing or deleted one as a bad
// project_id.
func activeProject(ctx context.Context, st Store, accountID AccountID, id ProjectID) (*Project, error) {
	pr, err := st.Project(ctx, accountID, id)
	if isNotFound(err) {
		return nil, Invalidf("project_id", "project_id %d is not a project of account %d.", id, accountID)
	}
	if err != nil {
		return nil, err
	}
	if pr.State != StateActive {
		return nil, Invalidf("project_id", "project_id %d is a deleted project; restore it or choose another.", id)
	}
	return pr, nil
}

// readableProject returns pr when p may read it, else nil: an association does not reveal a
// project its owner can no longer see.
func readableProject(p *Principal, pr *Project) *Project {
	if pr == nil || !p.Can(perm.Projects, perm.Read, pr.ID) {
		return nil
	}
	return pr
}
