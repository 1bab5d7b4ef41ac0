package httpapi

import (
	"net/http"

	"tokend"
)

// userCredentialJSON is dbt's UserCredentialsResponse. tokend keeps only the reference to the
// credentials object, so "credentials" is that reference, not the warehouse settings.
type userCredentialJSON struct {
	ID            int64                  `json:"id"`
	AccountID     int64                  `json:"account_id"`
	UserID        int64                  `json:"user_id"`
	ProjectID     int64                  `json:"project_id"`
	CredentialsID int64                  `json:"credentials_id"`
	State         int                    `json:"state"`
	CreatedAt     *string                `json:"created_at"`
	UpdatedAt     *string                `json:"updated_at"`
	Credentials   credentialsRefJSON     `json:"credentials"`
	Project       *credentialProjectJSON `json:"project"`
}

// credentialsRefJSON is the part of a credentials object tokend knows. Its state is the
// association's.
type credentialsRefJSON struct {
	ID        int64 `json:"id"`
	AccountID int64 `json:"account_id"`
	ProjectID int64 `json:"project_id"`
	State     int   `json:"state"`
	// The warehouse fields of dbt's credentials objects are not tokend's to know: null.
	Type          *string `json:"type"`
	Username      *string `json:"username"`
	DefaultSchema *string `json:"default_schema"`
	TargetName    *string `json:"target_name"`
	Threads       *int    `json:"threads"`
}

// credentialProjectJSON is the association's project; null when the token may not read it.
type credentialProjectJSON struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	AccountID int64   `json:"account_id"`
	State     int     `json:"state"`
	Type      *string `json:"type"` // dbt's project type; tokend's projects have none
}

func toUserCredentialJSON(c *tokend.UserCredential) userCredentialJSON {
	out := userCredentialJSON{
		ID: int64(c.ID), AccountID: int64(c.AccountID), UserID: int64(c.UserID), ProjectID: int64(c.ProjectID), CredentialsID: c.CredentialsID,
		State: int(c.State), CreatedAt: jsonTime(c.CreatedAt), UpdatedAt: jsonTime(c.UpdatedAt),
		Credentials: credentialsRefJSON{ID: c.CredentialsID, AccountID: int64(c.AccountID), ProjectID: int64(c.ProjectID), State: int(c.State)},
	}
	if pr := c.Project; pr != nil {
		out.Project = &credentialProjectJSON{ID: int64(pr.ID), Name: pr.Name, AccountID: int64(pr.AccountID), State: int(pr.State)}
	}
	return out
}

// userCredentialRequest is dbt's UserCredentialsRequest. Every field is optional here: an
// update changes only what it names, and the service says which fields a create needs.
type userCredentialRequest struct {
	AccountID     *int64 `json:"account_id"`
	UserID        *int64 `json:"user_id"`
	ProjectID     *int64 `json:"project_id"`
	CredentialsID *int64 `json:"credentials_id"`
	State         *int   `json:"state"`
}

func (s *Server) listUserCredentials(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state")
	if err != nil {
		return err
	}
	state, err := q.state()
	if err != nil {
		return err
	}
	page := q.page
	cs, total, err := s.svc.ListUserCredentials(r.Context(), p, userID, tokend.UserCredentialFilter{State: state, Page: page})
	if err != nil {
		return err
	}
	out := make([]userCredentialJSON, len(cs))
	for i, c := range cs {
		out[i] = toUserCredentialJSON(c)
	}
	writeList(w, out, len(out), total, q.filters, "id")
	return nil
}

func (s *Server) createUserCredential(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	var req userCredentialRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in := tokend.UserCredentialInput{AccountID: typedID[tokend.AccountID](req.AccountID), UserID: typedID[tokend.UserID](req.UserID)}
	if req.ProjectID != nil {
		in.ProjectID = tokend.ProjectID(*req.ProjectID)
	}
	if req.CredentialsID != nil {
		in.CredentialsID = *req.CredentialsID
	}
	if req.State != nil {
		st := tokend.State(*req.State)
		in.State = &st
	}
	c, err := s.svc.CreateUserCredential(r.Context(), p, userID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toUserCredentialJSON(c), nil)
	return nil
}

func (s *Server) getUserCredential(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, id, err := userCredentialPath(r)
	if err != nil {
		return err
	}
	c, err := s.svc.UserCredential(r.Context(), p, userID, id)
	if err != nil {
		return err
	}
	writeOK(w, toUserCredentialJSON(c))
	return nil
}

// updateUserCredential is POST on an association's path; state 2 deletes it.
func (s *Server) updateUserCredential(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, id, err := userCredentialPath(r)
	if err != nil {
		return err
	}
	var req userCredentialRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u := tokend.UserCredentialUpdate{AccountID: typedID[tokend.AccountID](req.AccountID), UserID: typedID[tokend.UserID](req.UserID), ProjectID: typedID[tokend.ProjectID](req.ProjectID),
		CredentialsID: req.CredentialsID}
	if req.State != nil {
		st := tokend.State(*req.State)
		u.State = &st
	}
	c, err := s.svc.UpdateUserCredential(r.Context(), p, userID, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toUserCredentialJSON(c))
	return nil
}

func (s *Server) deleteUserCredential(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, id, err := userCredentialPath(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteUserCredential(r.Context(), p, userID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userCredentialPath reads the user and association ids of a route.
func userCredentialPath(r *http.Request) (userID tokend.UserID, id tokend.CredentialID, err error) {
	if userID, err = pathID[tokend.UserID](r, "user_id"); err != nil {
		return 0, 0, err
	}
	id, err = pathID[tokend.CredentialID](r, "id")
	return userID, id, err
}
