package storetest

import (
	"slices"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// testInvitations checks invitations. Contract:
//   - an invitation reads back as written; GroupIDs nil and empty read back alike (empty);
//     InvitedBy and RedeemedBy zero and RedeemedAt zero stay zero;
//   - Invitation takes the account: another account's id is ENotFound, as is a missing id;
//   - UpdateInvitation writes License, GroupIDs, State, ExpiresAt, RedeemedBy, RedeemedAt and
//     UpdatedAt, never the account, e-mail, inviter or creation time; a missing one is ENotFound;
//   - ListInvitations selects by account, by e-mail (across accounts) or both, and by state,
//     orders by id, pages, and counts every row the filter selects.
func testInvitations(t *testing.T, open func(testing.TB) tokend.Store) {
	newInvitation := func(accountID tokend.AccountID, invitedBy tokend.UserID, email string, groups []tokend.GroupID) *tokend.Invitation {
		return &tokend.Invitation{AccountID: accountID, Email: email, License: perm.LicenseReadOnly, GroupIDs: groups,
			State: tokend.InvitePending, InvitedBy: invitedBy, CreatedAt: base, UpdatedAt: base, ExpiresAt: at(7 * 24 * time.Hour)}
	}
	compare := func(got, want *tokend.Invitation) diffs {
		var d diffs
		eq(&d, "ID", got.ID, want.ID)
		eq(&d, "AccountID", got.AccountID, want.AccountID)
		eq(&d, "Email", got.Email, want.Email)
		eq(&d, "License", got.License, want.License)
		if len(got.GroupIDs) != len(want.GroupIDs) || (len(got.GroupIDs) > 0 && !slices.Equal(got.GroupIDs, want.GroupIDs)) {
			d.addf("GroupIDs: got %v, want %v", got.GroupIDs, want.GroupIDs)
		}
		eq(&d, "State", got.State, want.State)
		eq(&d, "InvitedBy", got.InvitedBy, want.InvitedBy)
		eq(&d, "RedeemedBy", got.RedeemedBy, want.RedeemedBy)
		eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
		eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
		eqTime(&d, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
		eqTime(&d, "RedeemedAt", got.RedeemedAt, want.RedeemedAt)
		return d
	}

	t.Run("RoundTripAndBoundary", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a, other := mustAccount(t, st), mustAccount(t, st)
		u := mustUser(t, st)
		g := mustGroup(t, st, a.ID)
		tests := []struct {
			name string
			inv  *tokend.Invitation
		}{
			{"with groups and inviter", newInvitation(a.ID, u.ID, "a-"+unique()+"@example.com", []tokend.GroupID{g.ID, 7})},
			{"no groups, by a service token", newInvitation(a.ID, 0, "b-"+unique()+"@example.com", nil)},
			{"empty groups", newInvitation(a.ID, 0, "c-"+unique()+"@example.com", []tokend.GroupID{})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := *tt.inv
				must(t, st.CreateInvitation(ctx, tt.inv), "CreateInvitation")
				if tt.inv.ID <= 0 {
					t.Fatalf("CreateInvitation: got ID %d, want > 0", tt.inv.ID)
				}
				want.ID = tt.inv.ID
				got, err := st.Invitation(ctx, a.ID, want.ID)
				must(t, err, "Invitation")
				compare(got, &want).report(t, "Invitation")
				_, err = st.Invitation(ctx, other.ID, want.ID)
				wantCode(t, err, tokend.ENotFound, "Invitation of another account")
			})
		}
		_, err := st.Invitation(ctx, a.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "Invitation missing")
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a, other := mustAccount(t, st), mustAccount(t, st)
		inviter, redeemer := mustUser(t, st), mustUser(t, st)
		inv := newInvitation(a.ID, inviter.ID, "u-"+unique()+"@example.com", []tokend.GroupID{1})
		must(t, st.CreateInvitation(ctx, inv), "CreateInvitation")
		want := *inv
		changed := *inv
		changed.AccountID, changed.Email, changed.InvitedBy, changed.CreatedAt = other.ID, "x@example.com", 0, at(time.Hour)
		changed.AccountID = a.ID // the account selects the row; it is never rewritten
		changed.License, changed.GroupIDs, changed.State = perm.LicenseDeveloper, []tokend.GroupID{2, 3}, tokend.InviteRedeemed
		changed.ExpiresAt, changed.RedeemedBy, changed.RedeemedAt, changed.UpdatedAt = at(time.Hour), redeemer.ID, at(2*time.Hour), at(2*time.Hour)
		must(t, st.UpdateInvitation(ctx, &changed), "UpdateInvitation")
		want.License, want.GroupIDs, want.State = changed.License, changed.GroupIDs, changed.State
		want.ExpiresAt, want.RedeemedBy, want.RedeemedAt, want.UpdatedAt = changed.ExpiresAt, changed.RedeemedBy, changed.RedeemedAt, changed.UpdatedAt
		got, err := st.Invitation(ctx, a.ID, inv.ID)
		must(t, err, "Invitation")
		compare(got, &want).report(t, "after UpdateInvitation")

		moved := *got
		moved.AccountID = other.ID
		wantCode(t, st.UpdateInvitation(ctx, &moved), tokend.ENotFound, "UpdateInvitation through another account")
		missing := *got
		missing.ID = 999999
		wantCode(t, st.UpdateInvitation(ctx, &missing), tokend.ENotFound, "UpdateInvitation missing")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a, b := mustAccount(t, st), mustAccount(t, st)
		email := "l-" + unique() + "@example.com"
		var ids []tokend.InvitationID
		for i, acct := range []tokend.AccountID{a.ID, b.ID, a.ID, a.ID} {
			addr := email
			if i == 3 {
				addr = "other-" + unique() + "@example.com"
			}
			inv := newInvitation(acct, 0, addr, nil)
			if i == 2 {
				inv.State = tokend.InviteRedeemed
			}
			must(t, st.CreateInvitation(ctx, inv), "CreateInvitation")
			ids = append(ids, inv.ID)
		}
		tests := []struct {
			name  string
			f     tokend.InvitationFilter
			want  []tokend.InvitationID
			total int
		}{
			{"account", tokend.InvitationFilter{AccountID: a.ID}, []tokend.InvitationID{ids[0], ids[2], ids[3]}, 3},
			{"e-mail across accounts", tokend.InvitationFilter{Email: email}, []tokend.InvitationID{ids[0], ids[1], ids[2]}, 3},
			{"e-mail and account", tokend.InvitationFilter{AccountID: b.ID, Email: email}, []tokend.InvitationID{ids[1]}, 1},
			{"pending of an e-mail", tokend.InvitationFilter{Email: email, State: tokend.InvitePending}, []tokend.InvitationID{ids[0], ids[1]}, 2},
			{"paged", tokend.InvitationFilter{AccountID: a.ID, Page: tokend.Page{Limit: 1, Offset: 1}}, []tokend.InvitationID{ids[2]}, 3},
			{"nobody's", tokend.InvitationFilter{Email: "nobody-" + unique() + "@example.com"}, nil, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := st.ListInvitations(ctx, tt.f)
				must(t, err, "ListInvitations")
				var gotIDs []tokend.InvitationID
				for _, inv := range got {
					gotIDs = append(gotIDs, inv.ID)
				}
				if !slices.Equal(gotIDs, tt.want) || total != tt.total {
					t.Errorf("got %v (total %d), want %v (total %d)", gotIDs, total, tt.want, tt.total)
				}
			})
		}
	})
}
