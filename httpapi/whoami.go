package httpapi

import (
	"net/http"
	"strconv"

	"tokend"
)

// userJSON is dbt's UserResponse, with permissions[] holding the memberships the token may see
// (an account-scoped token: only its own account's).
type userJSON struct {
	ID                                        int64            `json:"id"`
	FirstName                                 string           `json:"first_name"`
	LastName                                  string           `json:"last_name"`
	Email                                     string           `json:"email"`
	Fullname                                  string           `json:"fullname"`
	IsActive                                  bool             `json:"is_active"`
	IsStaff                                   bool             `json:"is_staff"`
	EmailConnected                            bool             `json:"email_connected"`
	EmailVerified                             bool             `json:"email_verified"`
	GithubConnected                           bool             `json:"github_connected"`
	GithubUsername                            string           `json:"github_username"`
	GitlabConnected                           bool             `json:"gitlab_connected"`
	GitlabUsername                            string           `json:"gitlab_username"`
	AzureActiveDirectoryConnected             bool             `json:"azure_active_directory_connected"`
	AzureActiveDirectoryUsername              string           `json:"azure_active_directory_username"`
	AzureActiveDirectoryTokenRetrievalFailure bool             `json:"azure_active_directory_token_retrieval_failure"`
	GithubTokenRetrievalFailure               bool             `json:"github_token_retrieval_failure"`
	GitlabTokenRetrievalFailure               bool             `json:"gitlab_token_retrieval_failure"`
	EnterpriseConnected                       bool             `json:"enterprise_connected"`
	EnterpriseAuthenticationMethod            string           `json:"enterprise_authentication_method"`
	SSOOnlyUser                               bool             `json:"sso_only_user"`
	APITokenLastUsed                          *string          `json:"apitoken_last_used"`
	LastLogin                                 *string          `json:"last_login"`
	CreatedAt                                 *string          `json:"created_at"`
	AuthProviderInfos                         map[string]any   `json:"auth_provider_infos"`
	Licenses                                  map[string]any   `json:"licenses"`
	Permissions                               []membershipJSON `json:"permissions"`
}

// membershipJSON is one element of permissions[]: the user's license in one account (dbt's
// UserLicenseResponse). Groups is left out where they were not loaded (nil), and is [] for a
// user in no group.
type membershipJSON struct {
	ID          int64       `json:"id"`
	AccountID   int64       `json:"account_id"`
	UserID      int64       `json:"user_id"`
	LicenseType string      `json:"license_type"`
	State       int         `json:"state"`
	CreatedAt   *string     `json:"created_at"`
	UpdatedAt   *string     `json:"updated_at"`
	Groups      []groupJSON `json:"groups,omitzero"`
	SCIMManaged bool        `json:"scim_managed"`
}

func toMembershipJSON(m *tokend.Membership) membershipJSON {
	return membershipJSON{ID: int64(m.ID), AccountID: int64(m.AccountID), UserID: int64(m.UserID), LicenseType: string(m.License),
		State: int(m.State), CreatedAt: jsonTime(m.CreatedAt), UpdatedAt: jsonTime(m.UpdatedAt)}
}

// toMembershipGroupsJSON is toMembershipJSON with the user's groups in that account; nil
// groups (not loaded, or not to be shown) leave the field out.
func toMembershipGroupsJSON(m *tokend.Membership, groups []*tokend.Group) membershipJSON {
	out := toMembershipJSON(m)
	if groups == nil {
		return out
	}
	out.Groups = make([]groupJSON, len(groups))
	for i, g := range groups {
		out.Groups[i] = toGroupJSON(g)
	}
	return out
}

func toUserJSON(u *tokend.User, ms []*tokend.Membership) userJSON {
	out := userJSON{
		ID: int64(u.ID), FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Fullname: fullname(u), IsActive: u.State == tokend.StateActive, EmailConnected: true,
		CreatedAt: jsonTime(u.CreatedAt), AuthProviderInfos: map[string]any{},
		Licenses: map[string]any{}, Permissions: make([]membershipJSON, 0, len(ms)),
	}
	for _, m := range ms {
		out.Permissions = append(out.Permissions, toMembershipJSON(m))
		out.Licenses[strconv.FormatInt(int64(m.AccountID), 10)] = string(m.License)
	}
	return out
}

func fullname(u *tokend.User) string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// tokenInfoJSON says which credential made the request.
type tokenInfoJSON struct {
	Kind      string  `json:"kind"`
	UID       string  `json:"uid"`
	AccountID *int64  `json:"account_id"`
	ExpiresAt *string `json:"expires_at"`
}

type whoamiJSON struct {
	User    *userJSON     `json:"user"`
	Account *accountJSON  `json:"account"`
	Token   tokenInfoJSON `json:"token"`
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	id, err := s.svc.Whoami(r.Context(), p)
	if err != nil {
		return err
	}
	out := whoamiJSON{Token: tokenInfoJSON{Kind: string(p.Kind), UID: p.TokenUID, ExpiresAt: jsonTime(p.ExpiresAt)}}
	if p.AccountID != 0 {
		accountID := int64(p.AccountID)
		out.Token.AccountID = &accountID
	}
	if id.User != nil {
		u := toUserJSON(id.User, id.Memberships)
		out.User = &u
	}
	if id.Account != nil {
		a := toAccountJSON(id.Account)
		out.Account = &a
	}
	writeOK(w, out)
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
