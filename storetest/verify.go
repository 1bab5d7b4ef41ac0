package storetest

import (
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// verifyTokenDiff compares the token fields a verification reads (Store.TokenForVerify
// promises these, not the others).
func verifyTokenDiff(got, want *tokend.Token) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "Kind", got.Kind, want.Kind)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "UID", got.UID, want.UID)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	eqTime(&d, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "RotatedAt", got.RotatedAt, want.RotatedAt)
	eqTime(&d, "DisabledAt", got.DisabledAt, want.DisabledAt)
	eqTime(&d, "EnabledAt", got.EnabledAt, want.EnabledAt)
	return d
}

// accessGrantsDiff compares a PAT's grants read for verification with want. Contract: the
// grants of the user's active groups in the token's account, ordered by permission id.
func accessGrantsDiff(got, want []perm.Grant) diffs {
	var d diffs
	if len(got) != len(want) {
		d.addf("grants: got %d %v, want %d %v", len(got), got, len(want), want)
		return d
	}
	for i := range want {
		eq(&d, "Set", got[i].Set, want[i].Set)
		eq(&d, "AllProjects", got[i].AllProjects, want[i].AllProjects)
		eq(&d, "ProjectID", got[i].ProjectID, want[i].ProjectID)
		eqStrings(&d, "WritableEnvironmentCategories", got[i].WritableEnvironmentCategories,
			want[i].WritableEnvironmentCategories)
	}
	return d
}

// testTokenForVerify reads each kind of token by hash with what its verification needs, and
// nothing of another account, another user or an inactive group.
func testTokenForVerify(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a, b := mustAccount(t, st), mustAccount(t, st)
	u, v, outsider, suspended := mustUser(t, st), mustUser(t, st), mustUser(t, st), mustUser(t, st)
	mustMembership(t, st, a.ID, u.ID)
	// u's membership in b differs from a's (another license), so that a membership read from
	// the wrong account shows.
	mb := mustMembership(t, st, b.ID, u.ID)
	mb.License = perm.LicenseAnalyst
	must(t, st.UpdateMembership(ctx, mb), "UpdateMembership(u in b)")
	mustMembership(t, st, a.ID, v.ID)
	m := mustMembership(t, st, a.ID, suspended.ID)
	m.State = tokend.StateDeleted
	must(t, st.UpdateMembership(ctx, m), "UpdateMembership(suspended)")
	p1, p2 := mustProject(t, st, a.ID), mustProject(t, st, a.ID)

	// u is in g1 and g2 (active) and g3 (deleted) of a, and gb of b; v only in g2.
	g1, g2, g3 := mustGroup(t, st, a.ID), mustGroup(t, st, a.ID), mustGroup(t, st, a.ID)
	gb := mustGroup(t, st, b.ID)
	g1Grants := []perm.Grant{
		{Set: perm.Developer, ProjectID: int64(p1.ID), WritableEnvironmentCategories: []string{"production", "staging"}},
		{Set: perm.Member, AllProjects: true},
	}
	g2Grants := []perm.Grant{{Set: perm.JobAdmin, ProjectID: int64(p2.ID)}}
	must(t, st.SetGroupPermissions(ctx, a.ID, g1.ID, g1Grants), "SetGroupPermissions(g1)")
	must(t, st.SetGroupPermissions(ctx, a.ID, g2.ID, g2Grants), "SetGroupPermissions(g2)")
	must(t, st.SetGroupPermissions(ctx, a.ID, g3.ID, []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}}), "SetGroupPermissions(g3)")
	must(t, st.SetGroupPermissions(ctx, b.ID, gb.ID, []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}}), "SetGroupPermissions(gb)")
	must(t, st.SetUserGroups(ctx, a.ID, u.ID, []tokend.GroupID{g1.ID, g2.ID, g3.ID}), "SetUserGroups(u)")
	must(t, st.SetUserGroups(ctx, b.ID, u.ID, []tokend.GroupID{gb.ID}), "SetUserGroups(u in b)")
	must(t, st.SetUserGroups(ctx, a.ID, v.ID, []tokend.GroupID{g2.ID}), "SetUserGroups(v)")
	g3.State = tokend.StateDeleted
	must(t, st.UpdateGroup(ctx, g3), "UpdateGroup(g3 deleted)")

	pat := newPAT(a.ID, u.ID)
	pat.ExpiresAt, pat.LastUsedAt = at(48*time.Hour), at(time.Hour)
	pat = mustToken(t, st, pat)
	// Disabled, then enabled again, then rotated: every time the verification reads is set.
	pat.DisabledAt, pat.EnabledAt, pat.UpdatedAt = at(2*time.Hour), at(3*time.Hour), at(3*time.Hour)
	must(t, st.UpdateToken(ctx, a.ID, pat), "UpdateToken(pat)")
	pat.RotatedAt = at(4 * time.Hour)
	must(t, st.MarkTokenRotated(ctx, a.ID, pat.ID, pat.RotatedAt), "MarkTokenRotated(pat)")
	patInB := mustToken(t, st, newPAT(b.ID, u.ID))
	patOfV := mustToken(t, st, newPAT(a.ID, v.ID))
	patOfOutsider := mustToken(t, st, newPAT(a.ID, outsider.ID))
	patOfSuspended := mustToken(t, st, newPAT(a.ID, suspended.ID))
	deleted := newPAT(a.ID, u.ID)
	deleted.State = tokend.StateDeleted
	deleted = mustToken(t, st, deleted)

	svc := mustToken(t, st, newServiceToken(a.ID, u.ID))
	svcGrants := []perm.Grant{
		{Set: perm.JobAdmin, AllProjects: true},
		{Set: perm.Developer, ProjectID: int64(p1.ID), WritableEnvironmentCategories: []string{"development"}},
		{Set: perm.Member, ProjectID: int64(p2.ID), WritableEnvironmentCategories: []string{}},
	}
	must(t, st.SetTokenPermissions(ctx, a.ID, svc.ID, svcGrants), "SetTokenPermissions(svc)")
	bare := mustToken(t, st, newServiceToken(a.ID, u.ID))
	legacy := newLegacyKey(u.ID)
	legacy.Hash = randomHash()
	legacy = mustToken(t, st, legacy)

	pats := []struct {
		name        string
		tok         *tokend.Token
		wantMember  bool
		wantLicense perm.License
		wantState   tokend.State
		want        []perm.Grant
	}{
		{"pat of a member in three groups, one deleted", pat, true, perm.LicenseDeveloper, tokend.StateActive, append(append([]perm.Grant{}, g1Grants...), g2Grants...)},
		{"pat of the same user in another account", patInB, true, perm.LicenseAnalyst, tokend.StateActive, []perm.Grant{{Set: perm.AccountAdmin, AllProjects: true}}},
		{"pat of another user in a shared group", patOfV, true, perm.LicenseDeveloper, tokend.StateActive, g2Grants},
		{"pat of a user who is no member", patOfOutsider, false, "", 0, nil},
		{"pat of a deleted membership", patOfSuspended, true, perm.LicenseDeveloper, tokend.StateDeleted, nil},
		{"deleted pat", deleted, true, perm.LicenseDeveloper, tokend.StateActive, append(append([]perm.Grant{}, g1Grants...), g2Grants...)},
	}
	for _, tc := range pats {
		t.Run(tc.name, func(t *testing.T) {
			got, access, err := st.TokenForVerify(ctx, tc.tok.Hash)
			must(t, err, "TokenForVerify")
			verifyTokenDiff(got, tc.tok).report(t, "token")
			if access == nil {
				t.Fatal("access: got nil, want the membership")
			}
			if access.Member != tc.wantMember {
				t.Errorf("Member: got %v, want %v", access.Member, tc.wantMember)
			}
			if tc.wantMember {
				if access.License != tc.wantLicense || access.State != tc.wantState {
					t.Errorf("membership: got %q, state %d, want %q, state %d", access.License, access.State, tc.wantLicense, tc.wantState)
				}
			}
			accessGrantsDiff(access.Grants, tc.want).report(t, "grants")
			if len(got.Permissions) != 0 {
				t.Errorf("PAT's own permissions: got %d, want 0", len(got.Permissions))
			}
		})
	}
	others := []struct {
		name string
		tok  *tokend.Token
		want []perm.Grant
	}{
		{"service token with grants", svc, svcGrants},
		{"service token without grants", bare, nil},
		{"legacy key", legacy, nil},
	}
	for _, tc := range others {
		t.Run(tc.name, func(t *testing.T) {
			got, access, err := st.TokenForVerify(ctx, tc.tok.Hash)
			must(t, err, "TokenForVerify")
			verifyTokenDiff(got, tc.tok).report(t, "token")
			if access != nil {
				t.Errorf("access: got %+v, want nil", access)
			}
			tokenGrantsDiff(got, tc.want).report(t, "permissions")
		})
	}
	t.Run("unknown hash", func(t *testing.T) {
		_, _, err := st.TokenForVerify(ctx, randomHash())
		wantCode(t, err, tokend.ENotFound, "TokenForVerify(unknown)")
	})

	// The grants read follow every change of what they come from, after a first read: a
	// store that keeps them aside (PostgreSQL's verify_grants) must keep them current.
	t.Run("grants after changes", func(t *testing.T) {
		patGrants := func(step string, want []perm.Grant) {
			t.Helper()
			_, access, err := st.TokenForVerify(ctx, patOfV.Hash)
			must(t, err, "TokenForVerify")
			accessGrantsDiff(access.Grants, want).report(t, step)
		}
		svcGrantsAre := func(step string, want []perm.Grant) {
			t.Helper()
			got, _, err := st.TokenForVerify(ctx, svc.Hash)
			must(t, err, "TokenForVerify")
			tokenGrantsDiff(got, want).report(t, step)
		}
		patGrants("before", g2Grants)
		must(t, st.SetUserGroups(ctx, a.ID, v.ID, []tokend.GroupID{g1.ID, g2.ID}), "SetUserGroups(v joins g1)")
		patGrants("joined g1", append(append([]perm.Grant{}, g1Grants...), g2Grants...))
		newG1 := []perm.Grant{{Set: perm.Analyst, AllProjects: true}}
		must(t, st.SetGroupPermissions(ctx, a.ID, g1.ID, newG1), "SetGroupPermissions(g1 replaced)")
		patGrants("g1's grants replaced", append(append([]perm.Grant{}, g2Grants...), newG1...))
		g1.State = tokend.StateDeleted
		must(t, st.UpdateGroup(ctx, g1), "UpdateGroup(g1 deleted)")
		patGrants("g1 deleted", g2Grants)
		g1.State = tokend.StateActive
		must(t, st.UpdateGroup(ctx, g1), "UpdateGroup(g1 restored)")
		patGrants("g1 restored", append(append([]perm.Grant{}, g2Grants...), newG1...))
		must(t, st.SetUserGroups(ctx, a.ID, v.ID, nil), "SetUserGroups(v leaves every group)")
		patGrants("left every group", nil)

		svcGrantsAre("before", svcGrants)
		must(t, st.SetTokenPermissions(ctx, a.ID, svc.ID, svcGrants[:1]), "SetTokenPermissions(one)")
		svcGrantsAre("one grant left", svcGrants[:1])
		must(t, st.SetTokenPermissions(ctx, a.ID, svc.ID, nil), "SetTokenPermissions(none)")
		svcGrantsAre("no grant left", nil)
	})
}
