package httpapi

import (
	"net/http"
	"time"

	"tokend"
	"tokend/perm"
)

// toMemberJSON is dbt's UserResponse for a member of an account: permissions[] starts with
// that account's license, with the user's groups there, and goes on with the other accounts'
// licenses the token may see.
func toMemberJSON(m *tokend.Member) userJSON {
	ms := append([]*tokend.Membership{m.Membership}, m.Others...)
	out := toUserJSON(m.User, ms)
	out.Permissions[0] = toMembershipGroupsJSON(m.Membership, m.Groups)
	return out
}

// accountUserJSON is dbt's AccountUser (v3 "Retrieve User"), with permissions[] as in the v2
// user: this account's license and the user's groups here.
type accountUserJSON struct {
	ID            int64                  `json:"id"`
	CreatedAt     *string                `json:"created_at"`
	UpdatedAt     *string                `json:"updated_at"`
	Email         string                 `json:"email"`
	FirstName     string                 `json:"first_name"`
	LastName      string                 `json:"last_name"`
	Fullname      string                 `json:"fullname"`
	EmailVerified bool                   `json:"email_verified"`
	License       accountUserLicenseJSON `json:"license"`
	IsActive      bool                   `json:"is_active"`
	IsStaff       bool                   `json:"is_staff"`
	SCIMManaged   bool                   `json:"scim_managed"`
	Permissions   []membershipJSON       `json:"permissions"`
}

// accountUserLicenseJSON is dbt's AccountUserLicense; id is the membership's.
type accountUserLicenseJSON struct {
	ID          int64  `json:"id"`
	LicenseType string `json:"license_type"`
}

func toAccountUserJSON(m *tokend.Member) accountUserJSON {
	u := m.User
	return accountUserJSON{
		ID: int64(u.ID), CreatedAt: jsonTime(u.CreatedAt), UpdatedAt: jsonTime(u.UpdatedAt),
		Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Fullname: fullname(u),
		License:     accountUserLicenseJSON{ID: int64(m.Membership.ID), LicenseType: string(m.Membership.License)},
		IsActive:    u.State == tokend.StateActive && m.Membership.State == tokend.StateActive,
		Permissions: []membershipJSON{toMembershipGroupsJSON(m.Membership, m.Groups)},
	}
}

// listUsers lists an account's members (active ones unless ?state= says otherwise).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state", "order_by")
	if err != nil {
		return err
	}
	f := tokend.MembershipFilter{Page: q.page}
	if f.State, err = q.state(); err != nil {
		return err
	}
	var orderBy string
	f.Order, orderBy = q.order("id")
	members, total, err := s.svc.ListUsers(r.Context(), p, accountID, f)
	if err != nil {
		return err
	}
	out := make([]userJSON, len(members))
	for i, m := range members {
		out[i] = toMemberJSON(m)
	}
	writeList(w, out, len(out), total, q.filters, orderBy)
	return nil
}

// getAccountUser is v3's account user.
func (s *Server) getAccountUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	m, err := s.accountUser(r, p)
	if err != nil {
		return err
	}
	writeOK(w, toAccountUserJSON(m))
	return nil
}

// getUserV2 is v2's user, permissions[] first holding this account's license.
func (s *Server) getUserV2(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	m, err := s.accountUser(r, p)
	if err != nil {
		return err
	}
	writeOK(w, toMemberJSON(m))
	return nil
}

func (s *Server) accountUser(r *http.Request, p *tokend.Principal) (*tokend.Member, error) {
	accountID, userID, err := accountAnd[tokend.UserID](r, "id")
	if err != nil {
		return nil, err
	}
	return s.svc.AccountUser(r.Context(), p, accountID, userID)
}

// licenseRequest is dbt's UserLicenseRequest.
type licenseRequest struct {
	LicenseType *string `json:"license_type"`
	State       *int    `json:"state"`
}

// updateLicense changes a user license (the path's id is the membership's): its type, or
// state 2 to remove the user from the account.
func (s *Server) updateLicense(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.MembershipID](r, "id")
	if err != nil {
		return err
	}
	var req licenseRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	var (
		license *perm.License
		state   *tokend.State
	)
	if req.LicenseType != nil {
		l := perm.License(*req.LicenseType)
		license = &l
	}
	if req.State != nil {
		st := tokend.State(*req.State)
		state = &st
	}
	m, err := s.svc.UpdateLicense(r.Context(), p, accountID, id, license, state)
	if err != nil {
		return err
	}
	writeOK(w, toMembershipGroupsJSON(m.Membership, m.Groups))
	return nil
}

// addUserRequest is tokend's own: dbt invites users by e-mail instead.
type addUserRequest struct {
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Password    string `json:"password"`
	LicenseType string `json:"license_type"`
}

// addUser adds a new user (or a removed member back) to the account: 201 with the user. An
// e-mail with a user elsewhere is invited instead: 202 with the invitation.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req addUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	m, inv, err := s.svc.AddUser(r.Context(), p, accountID, tokend.AddUserInput{
		Email: req.Email, FirstName: req.FirstName, LastName: req.LastName,
		Password: req.Password, License: perm.License(req.LicenseType),
	})
	if err != nil {
		return err
	}
	if inv != nil {
		// The e-mail has a user elsewhere: they were invited, and nothing of them is shown.
		a, err := s.svc.Account(r.Context(), p, accountID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, toInviteJSON(inv, a, time.Now()), nil)
		return nil
	}
	writeJSON(w, http.StatusCreated, toMemberJSON(m), nil)
	return nil
}
