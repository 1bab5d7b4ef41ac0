package console

import (
	"net/http"
	"strconv"

	"tokend"
)

// Invitations: the accounts that invited the signed-in user, each with an accept button. A user
// without an account yet comes here too, so the pages work without one.

type invitationRow struct {
	ID          tokend.InvitationID
	AccountName string
	License     string
	ExpiresAt   string
}

func (c *Console) invitations(w http.ResponseWriter, r *http.Request, in *signedIn) {
	invs, accts, err := c.svc.PendingInvitations(r.Context(), in.invitee(c.svc), in.user.ID)
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	rows := make([]invitationRow, len(invs))
	for i, inv := range invs {
		rows[i] = invitationRow{ID: inv.ID, AccountName: accts[inv.AccountID].Name, License: string(inv.License),
			ExpiresAt: formatDateTime(inv.ExpiresAt)}
	}
	c.show(w, r, in, http.StatusOK, "invitations.html", "Invitations", "invitations", rows)
}

func (c *Console) acceptInvitation(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.renderError(w, r, in, tokend.Errorf(tokend.ENotFound, "Invitation not found."))
		return
	}
	inv, err := c.svc.AcceptInvitation(r.Context(), in.invitee(c.svc), in.user.ID, tokend.InvitationID(id))
	if err != nil {
		c.renderError(w, r, in, err)
		return
	}
	// Straight into the account just joined.
	if err := c.svc.SetSessionAccount(r.Context(), in.sess, inv.AccountID); err != nil {
		c.log.Warn("switch to the account joined", "account_id", inv.AccountID, "err", err)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// invitee is who acts on the user's own invitations: the user, whatever account is current.
func (in *signedIn) invitee(svc *tokend.Service) *tokend.Principal {
	if in.p != nil {
		return in.p
	}
	return svc.Invitee(in.user.ID)
}
