package tokend

import (
	"context"
	"strconv"
	"time"

	"tokend/perm"
)

// UserCredential associates a user with a set of development credentials for one project of
// one account. The credentials themselves (warehouse user, schema, secrets) are not tokend's:
// CredentialsID only refers to them.
type UserCredential struct {
	ID            CredentialID
	AccountID     AccountID
	UserID        UserID
	ProjectID     ProjectID
	CredentialsID int64
	State         State
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Project is the association's project, filled in by Service when the principal may read
	// it; stores leave it nil.
	Project *Project
}

// UserCredentialFilter selects one user's credential associations.
type UserCredentialFilter struct {
	UserID    UserID
	AccountID AccountID // zero: any
	State     State     // zero: any
	Page
}

// UserCredentialInput describes a new association. AccountID and UserID are optional echoes of
// the request body; when given they must name the token's account and the path's user.
type UserCredentialInput struct {
	AccountID     *AccountID
	UserID        *UserID
	ProjectID     ProjectID
	CredentialsID int64
	State         *State // nil: active
}

// UserCredentialUpdate carries the fields an update may change; nil leaves a field alone.
// State 2 deletes the association, state 1 restores it. AccountID and UserID cannot change;
// when given they must match, as on create.
type UserCredentialUpdate struct {
	AccountID     *AccountID
	UserID        *UserID
	ProjectID     *ProjectID
	CredentialsID *int64
	State         *State
}

// checkOwnCredentials admits only a PAT of userID: a user's development credentials are
// managed by that user alone, never by a service token or an administrator. The association
// always lives in the PAT's own account.
func checkOwnCredentials(p *Principal, userID UserID) error {
	if p == nil {
		return ErrInvalidToken
	}
	if p.Kind != KindPAT && p.Kind != KindService {
		return Errorf(EForbidden, "This endpoint needs a personal access token of the user in the path; "+
			"other credentials cannot act as a user here.")
	}
	return checkUserContext(p, p.AccountID, userID)
}

// ListUserCredentials lists the user's credential associations in the PAT's account.
func (s *Service) ListUserCredentials(ctx context.Context, p *Principal, userID UserID, f UserCredentialFilter) ([]*UserCredential, int, error) {
	if err := checkOwnCredentials(p, userID); err != nil {
		return nil, 0, err
	}
	if f.State != 0 && !f.State.Valid() {
		return nil, 0, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", f.State)
	}
	f.UserID, f.AccountID, f.Page = userID, p.AccountID, f.Page.Normalize()
	cs, total, err := s.store.ListUserCredentials(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	if err := s.attachProjects(ctx, p, cs); err != nil {
		return nil, 0, err
	}
	return cs, total, nil
}

// UserCredential returns one of the user's associations; a deleted one is returned with
// state 2.
func (s *Service) UserCredential(ctx context.Context, p *Principal, userID UserID, id CredentialID) (*UserCredential, error) {
	if err := checkOwnCredentials(p, userID); err != nil {
		return nil, err
	}
	c, err := s.ownCredential(ctx, s.store, p, userID, id)
	if err != nil {
		return nil, err
	}
	if err := s.attachProjects(ctx, p, []*UserCredential{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateUserCredential associates the user with credentials for a project of the PAT's
// account; it needs write access to credentials in that project.
func (s *Service) CreateUserCredential(ctx context.Context, p *Principal, userID UserID, in UserCredentialInput) (*UserCredential, error) {
	if err := checkOwnCredentials(p, userID); err != nil {
		return nil, err
	}
	if err := checkEchoes(p, userID, in.AccountID, in.UserID); err != nil {
		return nil, err
	}
	if in.ProjectID <= 0 {
		return nil, Invalidf("project_id", "\"project_id\" must be the id of a project of this account.")
	}
	if in.CredentialsID <= 0 {
		return nil, Invalidf("credentials_id", "\"credentials_id\" must be a positive integer, got %d.", in.CredentialsID)
	}
	if in.State != nil && *in.State != StateActive {
		return nil, Invalidf("state", "New user credentials must be active (state 1), got %d.", *in.State)
	}
	if !p.Can(perm.Credentials, perm.Write, in.ProjectID) {
		return nil, missing(p, perm.Credentials, perm.Write, in.ProjectID)
	}
	var c *UserCredential
	err := s.change(ctx, func(st *txn) error {
		pr, err := activeProject(ctx, st, p.AccountID, in.ProjectID)
		if err != nil {
			return err
		}
		now := s.now()
		c = &UserCredential{AccountID: p.AccountID, UserID: userID, ProjectID: in.ProjectID,
			CredentialsID: in.CredentialsID, State: StateActive, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUserCredential(ctx, c); err != nil {
			return err
		}
		c.Project = readableProject(p, pr)
		e := event(ctx, p, p.AccountID, "credentials.create", "user_credentials", c.ID)
		e.Detail = credentialDetail(c)
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateUserCredential changes an association's project, credentials or state; it needs
// write access to credentials in the project it is for and, when that changes, in the new one.
func (s *Service) UpdateUserCredential(ctx context.Context, p *Principal, userID UserID, id CredentialID, u UserCredentialUpdate) (*UserCredential, error) {
	if err := checkOwnCredentials(p, userID); err != nil {
		return nil, err
	}
	if err := checkEchoes(p, userID, u.AccountID, u.UserID); err != nil {
		return nil, err
	}
	if u.ProjectID != nil && *u.ProjectID <= 0 {
		return nil, Invalidf("project_id", "\"project_id\" must be the id of a project of this account.")
	}
	if u.CredentialsID != nil && *u.CredentialsID <= 0 {
		return nil, Invalidf("credentials_id", "\"credentials_id\" must be a positive integer, got %d.", *u.CredentialsID)
	}
	if u.State != nil && !u.State.Valid() {
		return nil, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", *u.State)
	}
	var out *UserCredential
	err := s.change(ctx, func(st *txn) error {
		c, err := s.ownCredential(ctx, st, p, userID, id)
		if err != nil {
			return err
		}
		if !p.Can(perm.Credentials, perm.Write, c.ProjectID) {
			return missing(p, perm.Credentials, perm.Write, c.ProjectID)
		}
		out = c
		changed := map[string]string{}
		moved := u.ProjectID != nil && *u.ProjectID != c.ProjectID
		if moved {
			if !p.Can(perm.Credentials, perm.Write, *u.ProjectID) {
				return missing(p, perm.Credentials, perm.Write, *u.ProjectID)
			}
			changed["project_id"] = strconv.FormatInt(int64(*u.ProjectID), 10)
			c.ProjectID = *u.ProjectID
		}
		if u.CredentialsID != nil && *u.CredentialsID != c.CredentialsID {
			changed["credentials_id"] = strconv.FormatInt(*u.CredentialsID, 10)
			c.CredentialsID = *u.CredentialsID
		}
		restated := u.State != nil && *u.State != c.State
		if restated {
			changed["state"] = strconv.Itoa(int(*u.State))
			c.State = *u.State
		}
		// An association moves only to an active project of the account, and comes back from
		// deletion only onto one.
		var pr *Project
		if moved || (restated && c.State == StateActive) {
			if pr, err = activeProject(ctx, st, p.AccountID, c.ProjectID); err != nil {
				return err
			}
		} else if pr, err = st.Project(ctx, p.AccountID, c.ProjectID); err != nil && !isNotFound(err) {
			return err
		}
		c.Project = readableProject(p, pr)
		if len(changed) == 0 {
			return nil
		}
		c.UpdatedAt = s.now()
		if err := st.UpdateUserCredential(ctx, c); err != nil {
			return err
		}
		action := "credentials.update"
		if restated && c.State == StateDeleted {
			action = "credentials.delete"
		}
		e := event(ctx, p, p.AccountID, action, "user_credentials", c.ID)
		changed["user_id"] = strconv.FormatInt(int64(userID), 10)
		e.Detail = changed
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUserCredential marks an association deleted (state 2); deleting a deleted one changes
// nothing.
func (s *Service) DeleteUserCredential(ctx context.Context, p *Principal, userID UserID, id CredentialID) error {
	st := StateDeleted
	_, err := s.UpdateUserCredential(ctx, p, userID, id, UserCredentialUpdate{State: &st})
	return err
}

// ownCredential loads an association of userID in the principal's account; one in another
// account is a 404, as if it did not exist.
func (s *Service) ownCredential(ctx context.Context, st Store, p *Principal, userID UserID, id CredentialID) (*UserCredential, error) {
	c, err := st.UserCredential(ctx, userID, id)
	if isNotFound(err) || (err == nil && c.AccountID != p.AccountID) {
		return nil, Errorf(ENotFound, "User credentials %d not found.", id)
	}
	return c, err
}

// checkEchoes refuses a body whose account_id or user_id is not the token's account or the
// path's user.
func checkEchoes(p *Principal, userID UserID, accountID *AccountID, bodyUserID *UserID) error {
	if accountID != nil && *accountID != p.AccountID {
		return Invalidf("account_id", "account_id %d is not the account of this personal access token; "+
			"user credentials are kept in the token's account: leave account_id out or send that account's id.", *accountID)
	}
	if bodyUserID != nil && *bodyUserID != userID {
		return Invalidf("user_id", "user_id %d does not match the user in the path; leave user_id out or send the same id.", *bodyUserID)
	}
	return nil
}

// attachProjects fills in the projects of cs that p may read, in one query.
func (s *Service) attachProjects(ctx context.Context, p *Principal, cs []*UserCredential) error {
	var ids []ProjectID
	seen := map[ProjectID]bool{}
	for _, c := range cs {
		if !seen[c.ProjectID] && p.Can(perm.Projects, perm.Read, c.ProjectID) {
			seen[c.ProjectID] = true
			ids = append(ids, c.ProjectID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// A page of associations names at most MaxLimit projects, so one page of projects holds them.
	ps, _, err := s.store.ListProjects(ctx, ProjectFilter{AccountID: p.AccountID, IDs: ids, Page: Page{Limit: MaxLimit}})
	if err != nil {
		return err
	}
	byID := make(map[ProjectID]*Project, len(ps))
	for _, pr := range ps {
		byID[pr.ID] = pr
	}
	for _, c := range cs {
		if seen[c.ProjectID] {
			c.Project = byID[c.ProjectID]
		}
	}
	return nil
}

func credentialDetail(c *UserCredential) map[string]string {
	return map[string]string{
		"user_id":        strconv.FormatInt(int64(c.UserID), 10),
		"project_id":     strconv.FormatInt(int64(c.ProjectID), 10),
		"credentials_id": strconv.FormatInt(c.CredentialsID, 10),
	}
}
