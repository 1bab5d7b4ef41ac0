package tokend

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"tokend/perm"
)

// Invitation asks a person to join an account. A person who already has a user (in another
// account) is never enrolled by an admin of this one: they get an invitation, which they accept
// with their own credentials, and until then the account learns nothing about their user.
type Invitation struct {
	ID        InvitationID
	AccountID AccountID
	Email     string
	License   perm.License
	// GroupIDs are the groups the person joins on accepting (beside the default ones).
	GroupIDs []GroupID
	// State is InvitePending or InviteRedeemed as stored; an expired pending invitation reads
	// InviteExpired from Status.
	State      InviteState
	InvitedBy  UserID // the inviting user; zero for a service token
	RedeemedBy UserID // the user who accepted; zero until then
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ExpiresAt  time.Time
	RedeemedAt time.Time // zero until accepted
}

// InviteState is dbt's invite status.
type InviteState int

// The invite statuses tokend uses, numbered as dbt's StatusEnum.
const (
	InvitePending  InviteState = 1
	InviteRedeemed InviteState = 2
	InviteExpired  InviteState = 3
)

// Status is the invitation's status at now: pending ones past ExpiresAt are expired.
func (i *Invitation) Status(now time.Time) InviteState {
	if i.State == InvitePending && !now.Before(i.ExpiresAt) {
		return InviteExpired
	}
	return i.State
}

// InvitationFilter selects invitations of one account or for one e-mail (one of the two is
// required), by id.
type InvitationFilter struct {
	AccountID AccountID
	Email     string
	State     InviteState // zero: any (as stored: an expired one is still pending here)
	Page
}

// InvitationLifetime is how long an invitation can be accepted.
const InvitationLifetime = 7 * 24 * time.Hour

// MaxInvitesPerRequest bounds the e-mails of one invite request.
const MaxInvitesPerRequest = 100

// InviteInput describes invitations to send.
type InviteInput struct {
	Emails   []string
	License  perm.License
	GroupIDs []GroupID
}

// InviteUsers invites each e-mail to the account with a license and groups. It needs write
// access to users and licenses, and the caller must hold every grant of the groups and what the
// license carries (nobody grants what they do not hold). An e-mail with a pending invitation
// gets it renewed; an active member is refused.
func (s *Service) InviteUsers(ctx context.Context, p *Principal, accountID AccountID, in InviteInput) ([]*Invitation, error) {
	if err := authorize(p, accountID, perm.Users, perm.Write, 0); err != nil {
		return nil, err
	}
	if err := authorize(p, accountID, perm.Licenses, perm.Write, 0); err != nil {
		return nil, err
	}
	if len(in.Emails) == 0 || len(in.Emails) > MaxInvitesPerRequest {
		return nil, Invalidf("email_addresses", "Give 1 to %d e-mail addresses.", MaxInvitesPerRequest)
	}
	var emails []string
	for _, raw := range in.Emails {
		if err := checkText("email_addresses", raw); err != nil {
			return nil, err
		}
		e, err := parseEmail(raw)
		if err != nil {
			return nil, Invalidf("email_addresses", "%q is not a valid e-mail address.", raw)
		}
		if !slices.Contains(emails, e) {
			emails = append(emails, e)
		}
	}
	if !in.License.Valid() {
		return nil, Invalidf("license_type", "%q is not a license type; want one of %s.", in.License, licenseNames())
	}
	if err := coversLicense(p, in.License); err != nil {
		return nil, err
	}
	if len(in.GroupIDs) > MaxGrants {
		return nil, Invalidf("group_ids", "At most %d groups, got %d.", MaxGrants, len(in.GroupIDs))
	}
	var out []*Invitation
	err := s.change(ctx, func(st *txn) error {
		groups, err := inviteGroups(ctx, st, p, accountID, in.GroupIDs)
		if err != nil {
			return err
		}
		for _, email := range emails {
			if u, err := st.UserByEmail(ctx, email); err == nil {
				m, err := st.Membership(ctx, accountID, u.ID)
				if err == nil && m.State == StateActive {
					return alreadyMember(email)
				}
				if err != nil && !isNotFound(err) {
					return err
				}
			} else if !isNotFound(err) {
				return err
			}
			inv, err := s.invite(ctx, st, p, accountID, email, in.License, groups)
			if err != nil {
				return err
			}
			out = append(out, inv)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inviteGroups checks that each id is an active group of the account that p covers.
func inviteGroups(ctx context.Context, st Store, p *Principal, accountID AccountID, ids []GroupID) ([]GroupID, error) {
	var out []GroupID
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		g, err := activeGroup(ctx, st, accountID, id)
		if isNotFound(err) {
			return nil, Invalidf("group_ids", "Group %d does not exist in account %d.", id, accountID)
		}
		if err != nil {
			return nil, err
		}
		if err := coversGroup(p, g); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// invite creates a pending invitation, or renews the pending one the e-mail has in the
// account, inside st.
func (s *Service) invite(ctx context.Context, st *txn, p *Principal, accountID AccountID, email string, license perm.License, groups []GroupID) (*Invitation, error) {
	now := s.now()
	var inv *Invitation
	pending, _, err := st.ListInvitations(ctx, InvitationFilter{AccountID: accountID, Email: email,
		State: InvitePending, Page: Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	action := "invite.create"
	if len(pending) > 0 {
		inv, action = pending[0], "invite.renew"
		inv.License, inv.GroupIDs, inv.ExpiresAt, inv.UpdatedAt = license, groups, now.Add(InvitationLifetime), now
		if err := st.UpdateInvitation(ctx, inv); err != nil {
			return nil, err
		}
	} else {
		inv = &Invitation{AccountID: accountID, Email: email, License: license, GroupIDs: groups,
			State: InvitePending, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(InvitationLifetime)}
		if p.IsUser() {
			inv.InvitedBy = p.UserID
		}
		if err := st.CreateInvitation(ctx, inv); err != nil {
			return nil, err
		}
	}
	e := event(ctx, p, accountID, action, "invite", inv.ID)
	e.Detail = map[string]string{"email": email, "license_type": string(license), "group_ids": joinIDs(groups)}
	st.audit(e)
	return inv, nil
}

func joinIDs[ID ~int64](ids []ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(int64(id), 10)
	}
	return strings.Join(parts, ",")
}

// ListInvitations lists the account's invitations by id; it needs read access to users.
func (s *Service) ListInvitations(ctx context.Context, p *Principal, accountID AccountID, page Page) ([]*Invitation, int, error) {
	if err := authorize(p, accountID, perm.Users, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	return s.store.ListInvitations(ctx, InvitationFilter{AccountID: accountID, Page: page.Normalize()})
}

// Invitation returns one invitation of the account; it needs read access to users.
func (s *Service) Invitation(ctx context.Context, p *Principal, accountID AccountID, id InvitationID) (*Invitation, error) {
	if err := authorize(p, accountID, perm.Users, perm.Read, 0); err != nil {
		return nil, err
	}
	return s.store.Invitation(ctx, accountID, id)
}

// checkInvitee lets only the person themselves (a PAT or console session of user userID)
// see and accept the invitations sent to their e-mail; the principal's own account does not
// matter, since an invitation is for another account.
func checkInvitee(p *Principal, userID UserID) error {
	if p == nil {
		return ErrInvalidToken
	}
	if p.Kind != KindPAT && p.Kind != KindSession {
		return errNeedsUserContext(userID)
	}
	if p.UserID != userID {
		return Errorf(EForbidden, "Only user %d can see or accept the invitations sent to them.", userID)
	}
	return nil
}

// PendingInvitations returns the invitations waiting for user userID (by their e-mail) that
// can still be accepted, oldest first, with their accounts.
func (s *Service) PendingInvitations(ctx context.Context, p *Principal, userID UserID) ([]*Invitation, map[AccountID]*Account, error) {
	if err := checkInvitee(p, userID); err != nil {
		return nil, nil, err
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	var out []*Invitation
	accounts := map[AccountID]*Account{}
	f := InvitationFilter{Email: u.Email, State: InvitePending, Page: Page{Limit: MaxLimit}}
	for {
		invs, total, err := s.store.ListInvitations(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		for _, inv := range invs {
			if inv.Status(now) != InvitePending {
				continue
			}
			a, err := s.account(ctx, inv.AccountID)
			if err != nil {
				return nil, nil, err
			}
			if a.State != StateActive {
				continue
			}
			accounts[a.ID] = a
			out = append(out, inv)
		}
		f.Offset += len(invs)
		if len(invs) == 0 || f.Offset >= total {
			return out, accounts, nil
		}
	}
}

// AcceptInvitation makes user userID a member of the invitation's account, with its license,
// the account's default groups and the invitation's groups that still exist. Only that user may
// accept it, once, before it expires.
func (s *Service) AcceptInvitation(ctx context.Context, p *Principal, userID UserID, id InvitationID) (*Invitation, error) {
	if err := checkInvitee(p, userID); err != nil {
		return nil, err
	}
	var inv *Invitation
	err := s.change(ctx, func(st *txn) error {
		u, err := st.User(ctx, userID)
		if err != nil {
			return err
		}
		f := InvitationFilter{Email: u.Email, Page: Page{Limit: MaxLimit}}
		for inv == nil {
			invs, total, err := st.ListInvitations(ctx, f)
			if err != nil {
				return err
			}
			for _, i := range invs {
				if i.ID == id {
					inv = i
				}
			}
			f.Offset += len(invs)
			if len(invs) == 0 || f.Offset >= total {
				break
			}
		}
		now := s.now()
		switch {
		case inv == nil:
			return Errorf(ENotFound, "Invitation %d not found.", id)
		case inv.Status(now) == InviteRedeemed:
			return Invalidf("id", "Invitation %d has been accepted already.", id)
		case inv.Status(now) == InviteExpired:
			return Invalidf("id", "Invitation %d expired at %s; ask for a new one.", id, inv.ExpiresAt.UTC().Format(time.RFC3339))
		}
		acct, err := st.Account(ctx, inv.AccountID)
		if err != nil {
			return err
		}
		if acct.State != StateActive {
			return Errorf(ENotFound, "Invitation %d not found.", id)
		}
		m, err := st.Membership(ctx, inv.AccountID, userID)
		switch {
		case isNotFound(err):
			m = &Membership{AccountID: inv.AccountID, UserID: userID, License: inv.License, State: StateActive,
				CreatedAt: now, UpdatedAt: now}
			if err := st.CreateMembership(ctx, m); err != nil {
				return err
			}
		case err != nil:
			return err
		case m.State == StateActive:
			// Already in (added back some other way): the invitation is used up, nothing changes.
		default:
			m.License, m.State, m.UpdatedAt = inv.License, StateActive, now
			if err := st.UpdateMembership(ctx, m); err != nil {
				return err
			}
			if err := st.SetUserGroups(ctx, inv.AccountID, userID, nil); err != nil {
				return err
			}
		}
		if err := s.joinDefaultGroups(ctx, st, inv.AccountID, userID); err != nil {
			return err
		}
		if err := joinGroups(ctx, st, inv.AccountID, userID, inv.GroupIDs); err != nil {
			return err
		}
		inv.State, inv.RedeemedBy, inv.RedeemedAt, inv.UpdatedAt = InviteRedeemed, userID, now, now
		if err := st.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		e := event(ctx, p, inv.AccountID, "invite.accept", "invite", inv.ID)
		e.ActorUserID = userID
		e.Detail = map[string]string{"user_id": strconv.FormatInt(int64(userID), 10), "membership_id": strconv.FormatInt(int64(m.ID), 10),
			"license_type": string(m.License)}
		st.audit(e)
		st.invalidate(Invalidation{AccountID: inv.AccountID, UserID: userID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// joinGroups adds the user to those of ids that are still active groups of the account.
func joinGroups(ctx context.Context, st Store, accountID AccountID, userID UserID, ids []GroupID) error {
	if len(ids) == 0 {
		return nil
	}
	current, err := st.GroupsOfUser(ctx, accountID, userID)
	if err != nil {
		return err
	}
	have := make([]GroupID, 0, len(current)+len(ids))
	for _, g := range current {
		have = append(have, g.ID)
	}
	added := false
	for _, id := range ids {
		if slices.Contains(have, id) {
			continue
		}
		if _, err := activeGroup(ctx, st, accountID, id); isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		have = append(have, id)
		added = true
	}
	if !added {
		return nil
	}
	return st.SetUserGroups(ctx, accountID, userID, have)
}

// Invitee is the principal of a signed-in console user acting for themselves only, outside any
// account: it may see and accept the invitations sent to that user, and nothing else (every
// account-bound rule refuses it). A user with no account yet needs it to join one.
func (s *Service) Invitee(userID UserID) *Principal {
	return &Principal{Kind: KindSession, UserID: userID}
}
