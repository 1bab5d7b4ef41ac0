package httpapi

import (
	"net/http"

	"tokend"
)

// projectJSON is dbt's ProjectResponse. tokend's projects are permission scopes: they hold no
// connection, repository, environments or jobs, so those objects are null or empty; the ids a
// client wrote of them come back as written.
type projectJSON struct {
	ID                     int64   `json:"id"`
	Name                   string  `json:"name"`
	AccountID              int64   `json:"account_id"`
	Description            string  `json:"description"`
	ConnectionID           *int64  `json:"connection_id"`
	RepositoryID           *int64  `json:"repository_id"`
	SemanticLayerConfigID  *int64  `json:"semantic_layer_config_id"`
	State                  int     `json:"state"`
	DbtProjectSubdirectory *string `json:"dbt_project_subdirectory"`
	DocsJobID              *int64  `json:"docs_job_id"`
	FreshnessJobID         *int64  `json:"freshness_job_id"`
	Type                   int     `json:"type"`
	CreatedAt              *string `json:"created_at"`
	UpdatedAt              *string `json:"updated_at"`
	Connection             any     `json:"connection"`
	Environments           []any   `json:"environments"`
	Repository             any     `json:"repository"`
	GroupPermissions       []any   `json:"group_permissions"`
	DocsJob                any     `json:"docs_job"`
	FreshnessJob           any     `json:"freshness_job"`
	FusionReadiness        any     `json:"fusion_readiness"`
	DefaultVersion         *string `json:"default_version"`
}

func toProjectJSON(p *tokend.Project) projectJSON {
	out := projectJSON{
		ID: int64(p.ID), Name: p.Name, AccountID: int64(p.AccountID), Description: p.Description, State: int(p.State),
		Type: int(p.Type), ConnectionID: optID(p.Refs.ConnectionID), RepositoryID: optID(p.Refs.RepositoryID),
		SemanticLayerConfigID: optID(p.Refs.SemanticLayerConfigID), DocsJobID: optID(p.Refs.DocsJobID),
		FreshnessJobID: optID(p.Refs.FreshnessJobID),
		CreatedAt:      jsonTime(p.CreatedAt), UpdatedAt: jsonTime(p.UpdatedAt),
		Environments: []any{}, GroupPermissions: []any{},
	}
	if p.Subdirectory != "" {
		out.DbtProjectSubdirectory = &p.Subdirectory
	}
	return out
}

// optID renders an id, or null when zero.
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// projectRequest is dbt's ProjectRequest: every writable field, so that each comes back as
// sent. In an update an absent field is left alone and null clears it.
type projectRequest struct {
	Name                   *string       `json:"name"`
	Description            *string       `json:"description"`
	State                  *int          `json:"state"`
	AccountID              *int64        `json:"account_id"`
	Type                   field[int]    `json:"type"`
	DbtProjectSubdirectory field[string] `json:"dbt_project_subdirectory"`
	ConnectionID           field[int64]  `json:"connection_id"`
	RepositoryID           field[int64]  `json:"repository_id"`
	SemanticLayerConfigID  field[int64]  `json:"semantic_layer_config_id"`
	DocsJobID              field[int64]  `json:"docs_job_id"`
	FreshnessJobID         field[int64]  `json:"freshness_job_id"`
}

// checkAccountID refuses a body whose account_id is not the path's.
func (req projectRequest) checkAccountID(accountID tokend.AccountID) error {
	if req.AccountID != nil && tokend.AccountID(*req.AccountID) != accountID {
		return tokend.Invalidf("account_id", "account_id %d does not match the account in the path (%d).", *req.AccountID, accountID)
	}
	return nil
}

// listProjects lists the projects the token may read (active ones unless ?state= says
// otherwise).
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state", "name__icontains", "pk", "pk__gt", "pk__in", "order_by")
	if err != nil {
		return err
	}
	f := tokend.ProjectFilter{Page: q.page, NameContains: q.str("name__icontains")}
	if f.State, err = q.state(); err != nil {
		return err
	}
	if f.Select, err = q.ids(); err != nil {
		return err
	}
	var orderBy string
	f.Order, orderBy = q.order("id")
	ps, total, err := s.svc.ListProjects(r.Context(), p, accountID, f)
	if err != nil {
		return err
	}
	writeEncodedList(s, w, s.projectJSON, ps, projectID, total, q.filters, orderBy)
	return nil
}

func projectID(p *tokend.Project) tokend.ProjectID { return p.ID }

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.ProjectID](r, "id")
	if err != nil {
		return err
	}
	pr, err := s.svc.Project(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toProjectJSON(pr))
	return nil
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req projectRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := req.checkAccountID(accountID); err != nil {
		return err
	}
	if req.State != nil && tokend.State(*req.State) != tokend.StateActive {
		return tokend.Invalidf("state", "A new project must be active (state 1), got %d.", *req.State)
	}
	in := tokend.ProjectInput{Type: tokend.ProjectType(req.Type.orZero()), Subdirectory: req.DbtProjectSubdirectory.orZero(),
		Refs: tokend.ProjectRefs{ConnectionID: req.ConnectionID.orZero(), RepositoryID: req.RepositoryID.orZero(),
			SemanticLayerConfigID: req.SemanticLayerConfigID.orZero(), DocsJobID: req.DocsJobID.orZero(),
			FreshnessJobID: req.FreshnessJobID.orZero()}}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Description != nil {
		in.Description = *req.Description
	}
	pr, err := s.svc.CreateProject(r.Context(), p, accountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toProjectJSON(pr), nil)
	return nil
}

// updateProject changes the fields the body names; state 2 deletes the project.
func (s *Server) updateProject(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.ProjectID](r, "id")
	if err != nil {
		return err
	}
	var req projectRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := req.checkAccountID(accountID); err != nil {
		return err
	}
	u := tokend.ProjectUpdate{Name: req.Name, Description: req.Description,
		Subdirectory: req.DbtProjectSubdirectory.update(),
		Refs: tokend.ProjectRefUpdate{ConnectionID: req.ConnectionID.update(), RepositoryID: req.RepositoryID.update(),
			SemanticLayerConfigID: req.SemanticLayerConfigID.update(), DocsJobID: req.DocsJobID.update(),
			FreshnessJobID: req.FreshnessJobID.update()}}
	if t := req.Type.update(); t != nil {
		pt := tokend.ProjectType(*t)
		u.Type = &pt
	}
	if req.State != nil {
		st := tokend.State(*req.State)
		u.State = &st
	}
	pr, err := s.svc.UpdateProject(r.Context(), p, accountID, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toProjectJSON(pr))
	return nil
}

// deleteProject answers 200 with the deleted project (state 2), as dbt's live API does:
// its documents say 204, but dbtc and dbt-cloud-cli parse the body and crash on an empty one.
// A later GET is a 404.
func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.ProjectID](r, "id")
	if err != nil {
		return err
	}
	pr, err := s.svc.DeleteProject(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toProjectJSON(pr))
	return nil
}
