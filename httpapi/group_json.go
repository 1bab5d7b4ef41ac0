package httpapi

import (
	"time"

	"tokend"
	"tokend/perm"
)

// groupJSON is dbt's GroupResponse.
type groupJSON struct {
	ID               int64                 `json:"id"`
	AccountID        int64                 `json:"account_id"`
	Name             string                `json:"name"`
	State            int                   `json:"state"`
	AssignByDefault  bool                  `json:"assign_by_default"`
	SSOMappingGroups []string              `json:"sso_mapping_groups"`
	CreatedAt        *string               `json:"created_at"`
	UpdatedAt        *string               `json:"updated_at"`
	GroupPermissions []groupPermissionJSON `json:"group_permissions"`
	MemberCount      int                   `json:"member_count"`
	SCIMManaged      bool                  `json:"scim_managed"`
}

// groupPermissionJSON is dbt's GroupPermissionResponse. A group's grants are replaced as a
// whole, so their times are the group's last change.
type groupPermissionJSON struct {
	ID                            int64    `json:"id"`
	AccountID                     int64    `json:"account_id"`
	GroupID                       int64    `json:"group_id"`
	ProjectID                     *int64   `json:"project_id"`
	AllProjects                   bool     `json:"all_projects"`
	PermissionSet                 string   `json:"permission_set"`
	PermissionLevel               *int     `json:"permission_level"`
	State                         int      `json:"state"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
	CreatedAt                     *string  `json:"created_at"`
	UpdatedAt                     *string  `json:"updated_at"`
}

func toGroupJSON(g *tokend.Group) groupJSON {
	out := groupJSON{
		ID: int64(g.ID), AccountID: int64(g.AccountID), Name: g.Name, State: int(g.State),
		AssignByDefault: g.AssignByDefault, SSOMappingGroups: nonNil(g.SSOMappingGroups),
		CreatedAt: jsonTime(g.CreatedAt), UpdatedAt: jsonTime(g.UpdatedAt),
		GroupPermissions: make([]groupPermissionJSON, len(g.Permissions)),
		MemberCount:      g.MemberCount,
	}
	for i, p := range g.Permissions {
		out.GroupPermissions[i] = toGroupPermissionJSON(g.AccountID, g.ID, p.ID, p.Grant, g.UpdatedAt)
	}
	return out
}

func toGroupPermissionJSON(accountID tokend.AccountID, groupID tokend.GroupID, id int64, gr perm.Grant, at time.Time) groupPermissionJSON {
	out := groupPermissionJSON{
		ID: id, AccountID: int64(accountID), GroupID: int64(groupID), AllProjects: gr.AllProjects,
		PermissionSet: string(gr.Set), State: int(tokend.StateActive),
		WritableEnvironmentCategories: nonNil(gr.WritableEnvironmentCategories),
		CreatedAt:                     jsonTime(at), UpdatedAt: jsonTime(at),
	}
	if gr.ProjectID != 0 {
		pid := gr.ProjectID
		out.ProjectID = &pid
	}
	return out
}

// grantJSON is one element of a bare-array permissions request (groups and service tokens).
type grantJSON struct {
	PermissionSet                 string   `json:"permission_set"`
	AllProjects                   *bool    `json:"all_projects"`
	ProjectID                     *int64   `json:"project_id"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories"`
	// account_id, group_id, id, state and permission_level are accepted and ignored: the path
	// decides where the grant goes.
}

// toGrants converts a request's grants. A missing all_projects means "all projects" only
// when no project_id is given.
func toGrants(in []grantJSON) []perm.Grant {
	out := make([]perm.Grant, len(in))
	for i, g := range in {
		gr := perm.Grant{Set: perm.Set(g.PermissionSet), WritableEnvironmentCategories: g.WritableEnvironmentCategories}
		if g.ProjectID != nil {
			gr.ProjectID = *g.ProjectID
		}
		if g.AllProjects != nil {
			gr.AllProjects = *g.AllProjects
		} else {
			gr.AllProjects = gr.ProjectID == 0
		}
		out[i] = gr
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
