package storetest

import (
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// testAccountBoundary checks that an account's id never reaches another account's objects:
// not to read them, not to change them, not in lists. Contract: an update of an object through
// the wrong account is ENotFound and changes nothing.
func testAccountBoundary(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	u := mustUser(t, st)
	ma := mustMembership(t, st, a.ID, u.ID)
	mb := mustMembership(t, st, b.ID, u.ID)
	pa := mustProject(t, st, a.ID)
	pb := mustProject(t, st, b.ID)
	ga := mustGroup(t, st, a.ID)
	gb := mustGroup(t, st, b.ID)
	gbGrants := []perm.Grant{{Set: perm.Member, ProjectID: int64(pb.ID)}}
	must(t, st.SetGroupPermissions(ctx, b.ID, gb.ID, gbGrants), "SetGroupPermissions")
	must(t, st.SetUserGroups(ctx, b.ID, u.ID, []tokend.GroupID{gb.ID}), "SetUserGroups")
	sa := mustToken(t, st, newServiceToken(a.ID, u.ID))
	sb := mustToken(t, st, newServiceToken(b.ID, u.ID))
	pata := mustToken(t, st, newPAT(a.ID, u.ID))
	patb := mustToken(t, st, newPAT(b.ID, u.ID))
	ea := &tokend.AuditEvent{AccountID: a.ID, Action: "token.create", CreatedAt: base}
	eb := &tokend.AuditEvent{AccountID: b.ID, Action: "token.create", CreatedAt: base}
	must(t, st.AppendAudit(ctx, ea), "AppendAudit")
	must(t, st.AppendAudit(ctx, eb), "AppendAudit")

	t.Run("Read", func(t *testing.T) {
		_, err := st.MembershipByID(ctx, a.ID, mb.ID)
		wantCode(t, err, tokend.ENotFound, "MembershipByID(a, b's membership)")
		_, err = st.Project(ctx, a.ID, pb.ID)
		wantCode(t, err, tokend.ENotFound, "Project(a, b's project)")
		_, err = st.Group(ctx, a.ID, gb.ID)
		wantCode(t, err, tokend.ENotFound, "Group(a, b's group)")
		groups, err := st.GroupsOfUser(ctx, a.ID, u.ID)
		must(t, err, "GroupsOfUser")
		wantIDs(t, "GroupsOfUser(a)", ids(groups, groupID), nil)
	})

	t.Run("Write", func(t *testing.T) {
		err := st.UpdateMembership(ctx, &tokend.Membership{ID: mb.ID, AccountID: a.ID, UserID: u.ID,
			License: perm.LicenseReadOnly, State: tokend.StateDeleted, CreatedAt: base, UpdatedAt: at(time.Hour)})
		wantCode(t, err, tokend.ENotFound, "UpdateMembership(b's membership through a)")
		err = st.UpdateProject(ctx, &tokend.Project{ID: pb.ID, AccountID: a.ID, Name: "hijacked",
			State: tokend.StateDeleted, CreatedAt: base, UpdatedAt: at(time.Hour)})
		wantCode(t, err, tokend.ENotFound, "UpdateProject(b's project through a)")
		err = st.UpdateGroup(ctx, &tokend.Group{ID: gb.ID, AccountID: a.ID, Name: "hijacked",
			State: tokend.StateDeleted, CreatedAt: base, UpdatedAt: at(time.Hour)})
		wantCode(t, err, tokend.ENotFound, "UpdateGroup(b's group through a)")
		err = st.SetGroupPermissions(ctx, a.ID, gb.ID, []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}})
		wantCode(t, err, tokend.ENotFound, "SetGroupPermissions(b's group through a)")
		err = st.SetUserGroups(ctx, a.ID, u.ID, []tokend.GroupID{ga.ID, gb.ID})
		wantCode(t, err, tokend.ENotFound, "SetUserGroups(a, with b's group)")

		// b's rows are as they were.
		gotM, err := st.MembershipByID(ctx, b.ID, mb.ID)
		must(t, err, "MembershipByID")
		membershipDiff(gotM, mb).report(t, "b's membership")
		gotP, err := st.Project(ctx, b.ID, pb.ID)
		must(t, err, "Project")
		projectDiff(gotP, pb).report(t, "b's project")
		gotG, err := st.Group(ctx, b.ID, gb.ID)
		must(t, err, "Group")
		groupDiff(gotG, gb).report(t, "b's group")
		groupGrantsDiff(gotG, gbGrants).report(t, "b's group")
		groups, err := st.GroupsOfUser(ctx, a.ID, u.ID)
		must(t, err, "GroupsOfUser")
		wantIDs(t, "GroupsOfUser(a)", ids(groups, groupID), nil)
		groups, err = st.GroupsOfUser(ctx, b.ID, u.ID)
		must(t, err, "GroupsOfUser")
		wantIDs(t, "GroupsOfUser(b)", ids(groups, groupID), []tokend.GroupID{gb.ID})
	})

	// Tokens: every read and write of a token takes the account, and through the wrong one
	// finds nothing and changes nothing.
	t.Run("Tokens", func(t *testing.T) {
		sbGrants := []perm.Grant{{Set: perm.Member, AllProjects: true}}
		must(t, st.SetTokenPermissions(ctx, b.ID, sb.ID, sbGrants), "SetTokenPermissions(b)")
		before, err := st.Token(ctx, b.ID, sb.ID)
		must(t, err, "Token(b)")

		_, err = st.Token(ctx, a.ID, sb.ID)
		wantCode(t, err, tokend.ENotFound, "Token(a, b's token)")
		_, err = st.TokenByUID(ctx, a.ID, sb.UID)
		wantCode(t, err, tokend.ENotFound, "TokenByUID(a, b's token)")
		hijacked := *before
		hijacked.Name, hijacked.State, hijacked.UpdatedAt = "hijacked", tokend.StateDeleted, at(time.Hour)
		wantCode(t, st.UpdateToken(ctx, a.ID, &hijacked), tokend.ENotFound, "UpdateToken(b's token through a)")
		wantCode(t, st.UpdateToken(ctx, 0, &hijacked), tokend.ENotFound, "UpdateToken(b's token as a legacy key)")
		err = st.SetTokenPermissions(ctx, a.ID, sb.ID, []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}})
		wantCode(t, err, tokend.ENotFound, "SetTokenPermissions(b's token through a)")
		wantCode(t, st.MarkTokenRotated(ctx, a.ID, sb.ID, at(time.Hour)), tokend.ENotFound, "MarkTokenRotated(b's token through a)")
		started, err := st.StartOverlap(ctx, a.ID, sb.ID)
		must(t, err, "StartOverlap")
		if started {
			t.Errorf("StartOverlap(b's token through a): got started, want nothing changed")
		}

		after, err := st.Token(ctx, b.ID, sb.ID)
		must(t, err, "Token(b)")
		tokenDiff(after, before).report(t, "b's token")
		tokenGrantsDiff(after, sbGrants).report(t, "b's token")
		if !after.RotatedAt.IsZero() {
			t.Errorf("b's token: got RotatedAt %v, want zero", after.RotatedAt)
		}

		// Through its own account, the same calls reach it.
		got, err := st.TokenByUID(ctx, b.ID, sb.UID)
		must(t, err, "TokenByUID(b)")
		if got.ID != sb.ID {
			t.Errorf("TokenByUID(b): got token %d, want %d", got.ID, sb.ID)
		}
		renamed := *before
		renamed.Name, renamed.UpdatedAt = "renamed", at(2*time.Hour)
		must(t, st.UpdateToken(ctx, b.ID, &renamed), "UpdateToken(b)")
		must(t, st.MarkTokenRotated(ctx, b.ID, sb.ID, at(2*time.Hour)), "MarkTokenRotated(b)")
	})

	t.Run("Lists", func(t *testing.T) {
		ms, n, err := st.ListMemberships(ctx, tokend.MembershipFilter{AccountID: a.ID})
		must(t, err, "ListMemberships")
		wantIDs(t, "ListMemberships(a)", ids(ms, membershipID), []tokend.MembershipID{ma.ID})
		if n != 1 {
			t.Errorf("ListMemberships(a) total: got %d, want 1", n)
		}
		ps, n, err := st.ListProjects(ctx, tokend.ProjectFilter{AccountID: a.ID, IDs: []tokend.ProjectID{pa.ID, pb.ID}})
		must(t, err, "ListProjects")
		wantIDs(t, "ListProjects(a, ids of both)", ids(ps, projectID), []tokend.ProjectID{pa.ID})
		if n != 1 {
			t.Errorf("ListProjects(a) total: got %d, want 1", n)
		}
		gs, n, err := st.ListGroups(ctx, tokend.GroupFilter{AccountID: a.ID})
		must(t, err, "ListGroups")
		wantIDs(t, "ListGroups(a)", ids(gs, groupID), []tokend.GroupID{ga.ID})
		if n != 1 {
			t.Errorf("ListGroups(a) total: got %d, want 1", n)
		}
		ts, n, err := st.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindService, AccountID: a.ID})
		must(t, err, "ListTokens")
		wantIDs(t, "ListTokens(service, a)", ids(ts, tokenID), []tokend.TokenID{sa.ID})
		if n != 1 {
			t.Errorf("ListTokens(service, a) total: got %d, want 1", n)
		}
		ts, _, err = st.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindService, AccountID: b.ID})
		must(t, err, "ListTokens")
		wantIDs(t, "ListTokens(service, b)", ids(ts, tokenID), []tokend.TokenID{sb.ID})
		ts, _, err = st.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindPAT, AccountID: a.ID, UserID: u.ID})
		must(t, err, "ListTokens")
		wantIDs(t, "ListTokens(pat, a, u)", ids(ts, tokenID), []tokend.TokenID{pata.ID})
		ts, _, err = st.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindPAT, AccountID: b.ID, UserID: u.ID})
		must(t, err, "ListTokens")
		wantIDs(t, "ListTokens(pat, b, u)", ids(ts, tokenID), []tokend.TokenID{patb.ID})
		es, n, err := st.ListAudit(ctx, tokend.AuditFilter{AccountID: a.ID})
		must(t, err, "ListAudit")
		wantIDs(t, "ListAudit(a)", ids(es, auditID), []int64{ea.ID})
		if n != 1 {
			t.Errorf("ListAudit(a) total: got %d, want 1", n)
		}
	})
}
