package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"tokend"
)

// groupRequest is dbt's GroupRequest, for create and update. Clients such as the Terraform
// provider send back the whole group they read (id, group_permissions, ...): fields not listed
// here are ignored, and a group's grants change only through group-permissions.
type groupRequest struct {
	ID               *int64          `json:"id"`
	AccountID        *int64          `json:"account_id"`
	Name             *string         `json:"name"`
	State            *int            `json:"state"`
	AssignByDefault  *bool           `json:"assign_by_default"`
	SSOMappingGroups nullableStrings `json:"sso_mapping_groups"`
}

// nullableStrings tells an absent list (leave it alone) from null or [] (clear it): the
// Terraform provider sends null for an empty list.
type nullableStrings struct {
	set bool
	v   []string
}

func (n *nullableStrings) UnmarshalJSON(b []byte) error {
	n.set = true
	if string(b) == "null" {
		n.v = nil
		return nil
	}
	return json.Unmarshal(b, &n.v)
}

// checkAccountField refuses a body whose account_id differs from the path's.
func checkAccountField(body *int64, path int64) error {
	if body != nil && *body != path {
		return tokend.Invalidf("account_id", "account_id %d in the body does not match account %d in the path.", *body, path)
	}
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state", "name", "name__icontains", "pk", "pk__in", "order_by")
	if err != nil {
		return err
	}
	f := tokend.GroupFilter{Page: q.page, Name: q.str("name"), NameContains: q.str("name__icontains")}
	if f.State, err = q.state(); err != nil {
		return err
	}
	if f.Select, err = q.ids(); err != nil {
		return err
	}
	var orderBy string
	f.Order, orderBy = q.order("id")
	groups, total, err := s.svc.ListGroups(r.Context(), p, accountID, f)
	if err != nil {
		return err
	}
	out := make([]groupJSON, len(groups))
	for i, g := range groups {
		out[i] = toGroupJSON(g)
	}
	writeList(w, out, len(out), total, q.filters, orderBy)
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.GroupID](r, "id")
	if err != nil {
		return err
	}
	g, err := s.svc.Group(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toGroupJSON(g))
	return nil
}

// createGroup answers 200 with the new group, as dbt does (the Terraform provider expects it).
func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req groupRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := checkAccountField(req.AccountID, int64(accountID)); err != nil {
		return err
	}
	if req.Name == nil {
		return tokend.Invalidf("name", "The group name is required.")
	}
	if req.State != nil && tokend.State(*req.State) != tokend.StateActive {
		return tokend.Invalidf("state", "A new group must be active (state 1), got %d.", *req.State)
	}
	in := tokend.GroupInput{Name: *req.Name, SSOMappingGroups: req.SSOMappingGroups.v}
	if req.AssignByDefault != nil {
		in.AssignByDefault = *req.AssignByDefault
	}
	g, err := s.svc.CreateGroup(r.Context(), p, accountID, in)
	if err != nil {
		return err
	}
	writeOK(w, toGroupJSON(g))
	return nil
}

// updateGroup changes a group; "state": 2 deletes it.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.GroupID](r, "id")
	if err != nil {
		return err
	}
	var req groupRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := checkAccountField(req.AccountID, int64(accountID)); err != nil {
		return err
	}
	if req.ID != nil && tokend.GroupID(*req.ID) != id {
		return tokend.Invalidf("id", "id %d in the body does not match group %d in the path.", *req.ID, id)
	}
	u := tokend.GroupUpdate{Name: req.Name, AssignByDefault: req.AssignByDefault}
	if req.SSOMappingGroups.set {
		u.SSOMappingGroups = &req.SSOMappingGroups.v
	}
	if req.State != nil {
		st := tokend.State(*req.State)
		u.State = &st
	}
	g, err := s.svc.UpdateGroup(r.Context(), p, accountID, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toGroupJSON(g))
	return nil
}

// setGroupPermissions replaces a group's grants with the body, a bare JSON array of dbt's
// GroupPermissionRequest, and answers the group's new grants.
func (s *Server) setGroupPermissions(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	groupID, err := pathID[tokend.GroupID](r, "group_id")
	if err != nil {
		return err
	}
	var req []grantJSON
	if err := decode(r, &req); err != nil {
		var te *tokend.Error
		if errors.As(err, &te) && te.Field == "" {
			err = errNotAnArray
		}
		return err
	}
	if req == nil {
		return errNotAnArray
	}
	g, err := s.svc.SetGroupPermissions(r.Context(), p, accountID, groupID, toGrants(req))
	if err != nil {
		return err
	}
	out := make([]groupPermissionJSON, len(g.Permissions))
	for i, gp := range g.Permissions {
		out[i] = toGroupPermissionJSON(g.AccountID, g.ID, gp.ID, gp.Grant, g.UpdatedAt)
	}
	writeList(w, out, len(out), len(out), map[string]any{"limit": max(len(out), tokend.MaxLimit), "offset": 0}, "id")
	return nil
}

var errNotAnArray = tokend.Invalidf("body", "The request body must be a JSON array of permissions; an empty array removes them all.")

// assignGroupsRequest is dbt's AssignGroupsRequestRequest.
type assignGroupsRequest struct {
	UserID          *int64   `json:"user_id"`
	DesiredGroupIDs *[]int64 `json:"desired_group_ids"`
}

// assignGroups makes desired_group_ids the user's exact groups in the account and answers them.
func (s *Server) assignGroups(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req assignGroupsRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.UserID == nil {
		return tokend.Invalidf("user_id", "user_id is required.")
	}
	if req.DesiredGroupIDs == nil {
		return tokend.Invalidf("desired_group_ids", "desired_group_ids is required; an empty list removes every group.")
	}
	groups, err := s.svc.AssignGroups(r.Context(), p, accountID, tokend.UserID(*req.UserID), typedIDs[tokend.GroupID](*req.DesiredGroupIDs))
	if err != nil {
		return err
	}
	out := make([]groupJSON, len(groups))
	for i, g := range groups {
		out[i] = toGroupJSON(g)
	}
	writeList(w, out, len(out), len(out), map[string]any{"limit": max(len(out), tokend.MaxLimit), "offset": 0}, "id")
	return nil
}
