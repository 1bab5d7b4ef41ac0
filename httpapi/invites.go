package httpapi

import (
	"net/http"
	"time"

	"tokend"
	"tokend/perm"
)

// inviteJSON is dbt's InviteResponse. tokend sends standard invites; their groups are named by
// group_ids (groups is empty: the inviting account's groups are not the invitee's to read).
type inviteJSON struct {
	ID           int64       `json:"id"`
	AccountID    int64       `json:"account_id"`
	Account      accountJSON `json:"account"`
	EmailAddress string      `json:"email_address"`
	LicenseType  string      `json:"license_type"`
	GroupIDs     []int64     `json:"group_ids"`
	Groups       []any       `json:"groups"`
	Status       int         `json:"status"`
	Type         string      `json:"type"`
	CreatedAt    *string     `json:"created_at"`
	ExpiresAt    *string     `json:"expires_at"`
	RedeemedAt   *string     `json:"redeemed_at"`
}

func toInviteJSON(i *tokend.Invitation, a *tokend.Account, now time.Time) inviteJSON {
	ids := plainIDs(i.GroupIDs)
	return inviteJSON{
		ID: int64(i.ID), AccountID: int64(i.AccountID), Account: toAccountJSON(a), EmailAddress: i.Email,
		LicenseType: string(i.License), GroupIDs: ids, Groups: []any{}, Status: int(i.Status(now)),
		Type: "standard", CreatedAt: jsonTime(i.CreatedAt), ExpiresAt: jsonTime(i.ExpiresAt),
		RedeemedAt: jsonTime(i.RedeemedAt),
	}
}

// inviteRequest is dbt's InviteUsersRequestRequest.
type inviteRequest struct {
	EmailAddresses []string `json:"email_addresses"`
	LicenseType    string   `json:"license_type"`
	GroupIDs       []int64  `json:"group_ids"`
}

// sendInvites is dbt's "Send user invites": 200 with the e-mails invited.
func (s *Server) sendInvites(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req inviteRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.LicenseType == "" {
		return tokend.Invalidf("license_type", "Field \"license_type\" is required.")
	}
	invs, err := s.svc.InviteUsers(r.Context(), p, accountID, tokend.InviteInput{Emails: req.EmailAddresses,
		License: perm.License(req.LicenseType), GroupIDs: typedIDs[tokend.GroupID](req.GroupIDs)})
	if err != nil {
		return err
	}
	sent := make([]string, len(invs))
	for i, inv := range invs {
		sent[i] = inv.Email
	}
	writeOK(w, map[string]any{"sent": sent})
	return nil
}

func (s *Server) listInvites(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r)
	if err != nil {
		return err
	}
	invs, total, err := s.svc.ListInvitations(r.Context(), p, accountID, q.page)
	if err != nil {
		return err
	}
	a, err := s.svc.Account(r.Context(), p, accountID)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]inviteJSON, len(invs))
	for i, inv := range invs {
		out[i] = toInviteJSON(inv, a, now)
	}
	writeList(w, out, len(out), total, q.filters, "id")
	return nil
}

func (s *Server) getInvite(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.InvitationID](r, "id")
	if err != nil {
		return err
	}
	inv, err := s.svc.Invitation(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	a, err := s.svc.Account(r.Context(), p, accountID)
	if err != nil {
		return err
	}
	writeOK(w, toInviteJSON(inv, a, time.Now()))
	return nil
}

// myInvites lists the invitations waiting for the caller (a PAT of that user, of any account).
func (s *Server) myInvites(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	if _, err := readList(r); err != nil {
		return err
	}
	invs, accts, err := s.svc.PendingInvitations(r.Context(), p, userID)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]inviteJSON, len(invs))
	for i, inv := range invs {
		out[i] = toInviteJSON(inv, accts[inv.AccountID], now)
	}
	writeList(w, out, len(out), len(out), map[string]any{}, "id")
	return nil
}

// acceptInvite makes the caller a member of the invitation's account.
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.InvitationID](r, "id")
	if err != nil {
		return err
	}
	inv, err := s.svc.AcceptInvitation(r.Context(), p, userID, id)
	if err != nil {
		return err
	}
	writeOK(w, map[string]any{"id": inv.ID, "account_id": inv.AccountID, "email_address": inv.Email,
		"license_type": string(inv.License), "status": int(inv.State), "redeemed_at": jsonTime(inv.RedeemedAt)})
	return nil
}
