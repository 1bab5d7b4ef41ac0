package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func testTokens(t *testing.T, open func(testing.TB) tokend.Store) {
	// Contract: MarkTokenRotated sets RotatedAt once; a second call is EConflict and leaves the
	// first time; UpdateToken never changes RotatedAt.
	t.Run("MarkRotated", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		tok := mustToken(t, st, newPAT(a.ID, u.ID))
		got, err := st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		if !got.RotatedAt.IsZero() {
			t.Fatalf("new token: got RotatedAt %v, want zero", got.RotatedAt)
		}
		must(t, st.MarkTokenRotated(ctx, tok.AccountID, tok.ID, at(time.Hour)), "MarkTokenRotated")
		wantCode(t, st.MarkTokenRotated(ctx, tok.AccountID, tok.ID, at(2*time.Hour)), tokend.EConflict, "MarkTokenRotated again")
		got, err = st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		want := *got
		want.RotatedAt = at(time.Hour)
		tokenDiff(got, &want).report(t, "after MarkTokenRotated")
		got.Name, got.UpdatedAt = "renamed", at(3*time.Hour)
		must(t, st.UpdateToken(ctx, got.AccountID, got), "UpdateToken")
		after, err := st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		if !after.RotatedAt.Equal(at(time.Hour)) {
			t.Errorf("after UpdateToken: got RotatedAt %v, want %v", after.RotatedAt, at(time.Hour))
		}
	})

	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		admin := mustUser(t, st)
		mustMembership(t, st, a.ID, u.ID)

		expiring := newPAT(a.ID, u.ID)
		expiring.ExpiresAt = at(30 * 24 * time.Hour)
		expiring.UpdatedAt = at(time.Second)
		// An old-format token is found through its uid and verified with the slow hash; it has no
		// SHA-256 yet.
		oldFormat := newPAT(a.ID, u.ID)
		oldFormat.Hash = nil
		oldFormat.SlowHash = "pbkdf2-sha256$600000$c2FsdA$aGFzaA"
		oldFormat.LegacyFormat = true
		oldService := newServiceToken(a.ID, admin.ID)
		oldService.Hash = nil
		oldService.SlowHash = "pbkdf2-sha256$600000$c2FsdDI$aGFzaDI"
		oldService.LegacyFormat = true

		tests := []struct {
			name string
			tok  *tokend.Token
		}{
			{"pat", newPAT(a.ID, u.ID)},
			{"pat with expiry", expiring},
			{"service", newServiceToken(a.ID, admin.ID)},
			{"legacy key", newLegacyKey(u.ID)},
			// Several tokens without a SHA-256 must not collide in its unique index.
			{"old-format pat", oldFormat},
			{"old-format service token", oldService},
			{"second legacy key without hash", newLegacyKey(admin.ID)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := *tt.tok
				must(t, st.CreateToken(ctx, tt.tok), "CreateToken")
				if tt.tok.ID <= 0 {
					t.Fatalf("CreateToken: got ID %d, want > 0", tt.tok.ID)
				}
				want.ID = tt.tok.ID
				if !tt.tok.CreatedAt.Equal(want.CreatedAt) || !tt.tok.UpdatedAt.Equal(want.UpdatedAt) {
					t.Errorf("CreateToken changed the caller's times: got %v/%v, want %v/%v",
						tt.tok.CreatedAt, tt.tok.UpdatedAt, want.CreatedAt, want.UpdatedAt)
				}

				read := func(ctx context.Context, id tokend.TokenID) (*tokend.Token, error) {
					return st.Token(ctx, want.AccountID, id)
				}
				if want.AccountID == 0 { // a legacy key belongs to no account
					read = st.TokenUnscoped
				}
				got, err := read(ctx, want.ID)
				must(t, err, "Token")
				tokenDiff(got, &want).report(t, "Token")
				byUID := func() (*tokend.Token, error) { return st.TokenByUID(ctx, want.AccountID, want.UID) }
				if want.AccountID == 0 {
					byUID = func() (*tokend.Token, error) { return st.TokenByUIDUnscoped(ctx, want.UID) }
				}
				got, err = byUID()
				must(t, err, "TokenByUID")
				tokenDiff(got, &want).report(t, "TokenByUID")
				if want.Hash != nil {
					got, err = st.TokenByHash(ctx, want.Hash)
					must(t, err, "TokenByHash")
					tokenDiff(got, &want).report(t, "TokenByHash")
				}
				if len(got.Permissions) != 0 {
					t.Errorf("new token: got %d permissions, want 0", len(got.Permissions))
				}
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		mustToken(t, st, newPAT(a.ID, u.ID))
		mustToken(t, st, newLegacyKey(u.ID)) // a nil hash must not match anything

		_, err := st.Token(ctx, a.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "Token(missing)")
		_, err = st.TokenUnscoped(ctx, 999999)
		wantCode(t, err, tokend.ENotFound, "TokenUnscoped(missing)")
		// Contract: Token is scoped by account; another account's token is not found, and
		// TokenUnscoped finds it.
		b := mustAccount(t, st)
		theirs := mustToken(t, st, newPAT(b.ID, u.ID))
		_, err = st.Token(ctx, a.ID, theirs.ID)
		wantCode(t, err, tokend.ENotFound, "Token(another account's token)")
		if got, err := st.TokenUnscoped(ctx, theirs.ID); err != nil || got.AccountID != b.ID {
			t.Errorf("TokenUnscoped(another account's token): got %v, %v; want the token of account %d", got, err, b.ID)
		}
		_, err = st.TokenByUID(ctx, a.ID, "nosuchuid")
		wantCode(t, err, tokend.ENotFound, "TokenByUID(missing)")
		_, err = st.TokenByHash(ctx, randomHash())
		wantCode(t, err, tokend.ENotFound, "TokenByHash(missing)")
		missing := newPAT(a.ID, u.ID)
		missing.ID = 999999
		wantCode(t, st.UpdateToken(ctx, missing.AccountID, missing), tokend.ENotFound, "UpdateToken(missing)")
	})

	t.Run("Duplicates", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		first := mustToken(t, st, newPAT(a.ID, u.ID))

		sameUID := newPAT(a.ID, u.ID)
		sameUID.UID = first.UID
		wantCode(t, st.CreateToken(ctx, sameUID), tokend.EConflict, "CreateToken(same uid)")

		sameHash := newServiceToken(a.ID, u.ID)
		sameHash.Hash = append([]byte(nil), first.Hash...)
		wantCode(t, st.CreateToken(ctx, sameHash), tokend.EConflict, "CreateToken(same hash)")

		// Upgrading an old-format token to a hash already taken is a conflict too.
		old := newPAT(a.ID, u.ID)
		old.Hash, old.SlowHash, old.LegacyFormat = nil, "pbkdf2-sha256$1$x$y", true
		mustToken(t, st, old)
		old.Hash = first.Hash
		wantCode(t, st.UpdateToken(ctx, old.AccountID, old), tokend.EConflict, "UpdateToken(taken hash)")
	})

	// Last use belongs to the usage flush: an update made from a copy read before a flush
	// (a rename, a revocation, a rotation) keeps the newer last use the flush wrote.
	t.Run("UpdateKeepsLastUse", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		tok := newPAT(a.ID, u.ID)
		mustToken(t, st, tok)
		stale, err := st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		must(t, st.RecordTokenUses(ctx, []tokend.TokenUse{{TokenID: tok.ID, At: at(2 * time.Hour), IP: "192.0.2.9"}}), "RecordTokenUses")
		stale.Name = "renamed after the flush"
		stale.UpdatedAt = at(3 * time.Hour)
		must(t, st.UpdateToken(ctx, stale.AccountID, stale), "UpdateToken")
		got, err := st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		if !got.LastUsedAt.Equal(at(2*time.Hour)) || got.LastUsedIP != "192.0.2.9" || got.Name != stale.Name {
			t.Errorf("after an update from a stale copy: got last use %v from %q, name %q; want %v from 192.0.2.9, name %q",
				got.LastUsedAt, got.LastUsedIP, got.Name, at(2*time.Hour), stale.Name)
		}
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		tok := newPAT(a.ID, u.ID)
		oldHash := tok.Hash
		mustToken(t, st, tok)

		tok.Name = "renamed"
		tok.State = tokend.StateDeleted
		tok.ExpiresAt = at(time.Hour)
		tok.Hash = randomHash()
		tok.SlowHash = "pbkdf2-sha256$600000$bmV3$bmV3"
		tok.UpdatedAt = at(time.Hour)
		must(t, st.UpdateToken(ctx, tok.AccountID, tok), "UpdateToken")
		got, err := st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		tokenDiff(got, tok).report(t, "after update")
		got, err = st.TokenByHash(ctx, tok.Hash)
		must(t, err, "TokenByHash(new hash)")
		if got.ID != tok.ID {
			t.Errorf("TokenByHash(new hash): got token %d, want %d", got.ID, tok.ID)
		}
		_, err = st.TokenByHash(ctx, oldHash)
		wantCode(t, err, tokend.ENotFound, "TokenByHash(replaced hash)")

		// The upgrade of an old-format token, as the service does it: hash set, slow hash cleared.
		old := newPAT(a.ID, u.ID)
		old.Hash, old.SlowHash, old.LegacyFormat = nil, "pbkdf2-sha256$600000$b2xk$b2xk", true
		mustToken(t, st, old)
		old.Hash = randomHash()
		old.SlowHash = ""
		old.ExpiresAt = time.Time{}
		old.UpdatedAt = at(2 * time.Hour)
		must(t, st.UpdateToken(ctx, old.AccountID, old), "UpdateToken(upgrade)")
		got, err = st.TokenByHash(ctx, old.Hash)
		must(t, err, "TokenByHash(upgraded)")
		tokenDiff(got, old).report(t, "after upgrade")

		// Clearing: expiry and hash back to none.
		tok.ExpiresAt = time.Time{}
		tok.Hash = nil
		tok.UpdatedAt = at(3 * time.Hour)
		must(t, st.UpdateToken(ctx, tok.AccountID, tok), "UpdateToken(clear)")
		got, err = st.Token(ctx, tok.AccountID, tok.ID)
		must(t, err, "Token")
		tokenDiff(got, tok).report(t, "after clearing")
	})
}

func testTokenPermissions(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	admin := mustUser(t, st)
	projects := []*tokend.Project{mustProject(t, st, a.ID), mustProject(t, st, a.ID), mustProject(t, st, a.ID)}
	svc := mustToken(t, st, newServiceToken(a.ID, admin.ID))
	other := mustToken(t, st, newServiceToken(a.ID, admin.ID))

	// 150 grants: more than one page of the API, in an order the store must keep.
	sets := []perm.Set{perm.JobAdmin, perm.Member, perm.AccountAdmin}
	many := make([]perm.Grant, 150)
	for i := range many {
		g := perm.Grant{Set: sets[i%len(sets)]}
		if i%4 == 0 {
			g.AllProjects = true
		} else {
			g.ProjectID = int64(projects[i%len(projects)].ID)
		}
		if i%5 == 0 {
			g.WritableEnvironmentCategories = []string{"production", fmt.Sprintf("env-%d", i)}
		}
		many[i] = g
	}
	must(t, st.SetTokenPermissions(ctx, svc.AccountID, svc.ID, many), "SetTokenPermissions(150)")
	otherGrants := []perm.Grant{{Set: perm.Member, ProjectID: int64(projects[0].ID)}}
	must(t, st.SetTokenPermissions(ctx, other.AccountID, other.ID, otherGrants), "SetTokenPermissions(other)")

	t.Run("RoundTrip", func(t *testing.T) {
		got, err := st.Token(ctx, svc.AccountID, svc.ID)
		must(t, err, "Token")
		tokenGrantsDiff(got, many).report(t, "Token")
		got, err = st.TokenByHash(ctx, svc.Hash)
		must(t, err, "TokenByHash")
		tokenGrantsDiff(got, many).report(t, "TokenByHash")
		got, err = st.TokenByUID(ctx, svc.AccountID, svc.UID)
		must(t, err, "TokenByUID")
		tokenGrantsDiff(got, many).report(t, "TokenByUID")
	})

	t.Run("InList", func(t *testing.T) {
		list, _, err := st.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindService, AccountID: a.ID})
		must(t, err, "ListTokens")
		wantIDs(t, "ListTokens", ids(list, tokenID), []tokend.TokenID{svc.ID, other.ID})
		for _, tok := range list {
			switch tok.ID {
			case svc.ID:
				tokenGrantsDiff(tok, many).report(t, "ListTokens(svc)")
			case other.ID:
				tokenGrantsDiff(tok, otherGrants).report(t, "ListTokens(other)")
			}
		}
	})

	t.Run("Replace", func(t *testing.T) {
		before, err := st.Token(ctx, svc.AccountID, svc.ID)
		must(t, err, "Token")
		oldIDs := make(map[int64]bool)
		for _, p := range before.Permissions {
			oldIDs[p.ID] = true
		}
		replaced := []perm.Grant{
			{Set: perm.AccountAdmin, AllProjects: true},
			{Set: perm.JobAdmin, ProjectID: int64(projects[2].ID), WritableEnvironmentCategories: []string{"staging"}},
		}
		must(t, st.SetTokenPermissions(ctx, svc.AccountID, svc.ID, replaced), "SetTokenPermissions")
		got, err := st.Token(ctx, svc.AccountID, svc.ID)
		must(t, err, "Token")
		tokenGrantsDiff(got, replaced).report(t, "after replace")
		for _, p := range got.Permissions {
			if oldIDs[p.ID] {
				t.Errorf("after replace: permission id %d of the old set is still returned", p.ID)
			}
		}
		got, err = st.Token(ctx, other.AccountID, other.ID)
		must(t, err, "Token(other)")
		tokenGrantsDiff(got, otherGrants).report(t, "other token")
	})

	t.Run("MissingToken", func(t *testing.T) {
		err := st.SetTokenPermissions(ctx, a.ID, 999999, []perm.Grant{{Set: perm.Member, AllProjects: true}})
		wantCode(t, err, tokend.ENotFound, "SetTokenPermissions(missing token)")
	})

	t.Run("Clear", func(t *testing.T) {
		must(t, st.SetTokenPermissions(ctx, svc.AccountID, svc.ID, nil), "SetTokenPermissions(nil)")
		got, err := st.Token(ctx, svc.AccountID, svc.ID)
		must(t, err, "Token")
		if len(got.Permissions) != 0 {
			t.Errorf("after clearing: got %d permissions, want 0", len(got.Permissions))
		}
	})
}

func testTokenUses(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	t1 := mustToken(t, st, newPAT(a.ID, u.ID))
	t2 := mustToken(t, st, newServiceToken(a.ID, u.ID))
	t3 := mustToken(t, st, newLegacyKey(u.ID))
	t4 := mustToken(t, st, newPAT(a.ID, u.ID))

	// check reads tok back: its last use is want's, and recording a use changes nothing else.
	check := func(t *testing.T, tok *tokend.Token, usedAt time.Time, ip string) {
		t.Helper()
		want := *tok
		want.LastUsedAt, want.LastUsedIP = usedAt, ip
		got, err := st.TokenUnscoped(ctx, tok.ID) // t3 is a legacy key, of no account
		must(t, err, "Token")
		tokenDiff(got, &want).report(t, fmt.Sprintf("token %d", tok.ID))
	}

	steps := []struct {
		name string
		uses []tokend.TokenUse
	}{
		{"first uses", []tokend.TokenUse{
			{TokenID: t1.ID, At: at(time.Hour), IP: "192.0.2.1"},
			{TokenID: t2.ID, At: at(2 * time.Hour), IP: "2001:db8::1"},
			{TokenID: t3.ID, At: at(3 * time.Hour), IP: "198.51.100.3"},
		}},
		// Uses arrive out of order across nodes: an older one than the stored one is ignored,
		// a newer one wins.
		{"older and newer", []tokend.TokenUse{
			{TokenID: t1.ID, At: at(30 * time.Minute), IP: "192.0.2.99"},
			{TokenID: t2.ID, At: at(4 * time.Hour), IP: "2001:db8::2"},
		}},
		{"nothing", nil},
	}
	want := map[tokend.TokenID]tokend.TokenUse{}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			must(t, st.RecordTokenUses(ctx, s.uses), "RecordTokenUses")
			for _, use := range s.uses {
				if cur, ok := want[use.TokenID]; !ok || use.At.After(cur.At) {
					want[use.TokenID] = use
				}
			}
			for _, tok := range []*tokend.Token{t1, t2, t3, t4} {
				use := want[tok.ID]
				check(t, tok, use.At, use.IP)
			}
		})
	}

	t.Run("ManyTokens", func(t *testing.T) {
		var toks []*tokend.Token
		var uses []tokend.TokenUse
		for i := range 50 {
			tok := mustToken(t, st, newPAT(a.ID, u.ID))
			toks = append(toks, tok)
			uses = append(uses, tokend.TokenUse{TokenID: tok.ID, At: at(time.Duration(i) * time.Minute),
				IP: fmt.Sprintf("10.0.0.%d", i)})
		}
		must(t, st.RecordTokenUses(ctx, uses), "RecordTokenUses(50)")
		for i, tok := range toks {
			check(t, tok, uses[i].At, uses[i].IP)
		}
	})
}

// testListTokensFilters pins down the inventory filters. Contract (all bounds strict, as the
// names say; TimeRange's inclusive Since is a different word for a different filter):
//   - LastUsedBefore t: tokens last used strictly before t, and tokens never used (they are the
//     stalest of all: the inventory uses this filter to find tokens to revoke);
//   - LastUsedAfter t: tokens last used strictly after t; never-used tokens are excluded;
//   - ExpiresBefore t: tokens with an expiry strictly before t; tokens without one are excluded.
//
// Results are ordered by id; the total counts every match, whatever the page.
func testListTokensFilters(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	u := mustUser(t, st)
	v := mustUser(t, st)
	mustMembership(t, st, a.ID, u.ID)
	mustMembership(t, st, a.ID, v.ID)
	mustMembership(t, st, b.ID, u.ID)

	create := func(tok *tokend.Token, state tokend.State, expires time.Time) *tokend.Token {
		t.Helper()
		tok.State, tok.ExpiresAt = state, expires
		return mustToken(t, st, tok)
	}
	active, deleted := tokend.StateActive, tokend.StateDeleted
	never := time.Time{}

	patNever := create(newPAT(a.ID, u.ID), active, never)           // never used, no expiry
	patOld := create(newPAT(a.ID, u.ID), active, at(100*time.Hour)) // used at 1h
	patNew := create(newPAT(a.ID, v.ID), active, at(200*time.Hour)) // used at 10h
	patDel := create(newPAT(a.ID, u.ID), deleted, never)            // used at 5h
	patB := create(newPAT(b.ID, u.ID), active, at(50*time.Hour))    // used at 5h
	svcUsed := create(newServiceToken(a.ID, u.ID), active, never)   // used at 5h
	svcDel := create(newServiceToken(a.ID, u.ID), deleted, never)   // never used
	svcB := create(newServiceToken(b.ID, u.ID), active, at(time.Hour))
	keyU := create(newLegacyKey(u.ID), active, never) // used at 5h
	keyV := create(newLegacyKey(v.ID), active, never) // never used

	must(t, st.RecordTokenUses(ctx, []tokend.TokenUse{
		{TokenID: patOld.ID, At: at(time.Hour), IP: "192.0.2.1"},
		{TokenID: patNew.ID, At: at(10 * time.Hour), IP: "192.0.2.1"},
		{TokenID: patDel.ID, At: at(5 * time.Hour), IP: "192.0.2.1"},
		{TokenID: patB.ID, At: at(5 * time.Hour), IP: "192.0.2.1"},
		{TokenID: svcUsed.ID, At: at(5 * time.Hour), IP: "192.0.2.1"},
		{TokenID: keyU.ID, At: at(5 * time.Hour), IP: "192.0.2.1"},
	}), "RecordTokenUses")

	pat, svc, key := tokend.KindPAT, tokend.KindService, tokend.KindLegacyKey
	tests := []struct {
		name string
		f    tokend.TokenFilter
		want []*tokend.Token
		// wantTotal is len(want) unless set.
		wantTotal int
	}{
		{"pats", tokend.TokenFilter{Kind: pat}, []*tokend.Token{patNever, patOld, patNew, patDel, patB}, 0},
		{"pats of account", tokend.TokenFilter{Kind: pat, AccountID: a.ID}, []*tokend.Token{patNever, patOld, patNew, patDel}, 0},
		{"pats of user in account", tokend.TokenFilter{Kind: pat, AccountID: a.ID, UserID: u.ID},
			[]*tokend.Token{patNever, patOld, patDel}, 0},
		{"pats of user anywhere", tokend.TokenFilter{Kind: pat, UserID: u.ID}, []*tokend.Token{patNever, patOld, patDel, patB}, 0},
		{"active pats of account", tokend.TokenFilter{Kind: pat, AccountID: a.ID, State: active},
			[]*tokend.Token{patNever, patOld, patNew}, 0},
		{"deleted pats", tokend.TokenFilter{Kind: pat, State: deleted}, []*tokend.Token{patDel}, 0},
		{"used before 5h (never used included, 5h excluded)", tokend.TokenFilter{Kind: pat, AccountID: a.ID,
			LastUsedBefore: at(5 * time.Hour)}, []*tokend.Token{patNever, patOld}, 0},
		{"used after 5h (5h excluded)", tokend.TokenFilter{Kind: pat, AccountID: a.ID,
			LastUsedAfter: at(5 * time.Hour)}, []*tokend.Token{patNew}, 0},
		{"used after 4h (never used excluded)", tokend.TokenFilter{Kind: pat, AccountID: a.ID,
			LastUsedAfter: at(4 * time.Hour)}, []*tokend.Token{patNew, patDel}, 0},
		{"used between 2h and 10h", tokend.TokenFilter{Kind: pat, LastUsedAfter: at(2 * time.Hour),
			LastUsedBefore: at(10 * time.Hour)}, []*tokend.Token{patDel, patB}, 0},
		{"expires before 200h (200h excluded, no expiry excluded)", tokend.TokenFilter{Kind: pat,
			ExpiresBefore: at(200 * time.Hour)}, []*tokend.Token{patOld, patB}, 0},
		{"expires before 201h in account", tokend.TokenFilter{Kind: pat, AccountID: a.ID,
			ExpiresBefore: at(201 * time.Hour)}, []*tokend.Token{patOld, patNew}, 0},
		{"page of pats", tokend.TokenFilter{Kind: pat, Page: tokend.Page{Limit: 2, Offset: 1}},
			[]*tokend.Token{patOld, patNew}, 5},
		{"page of filtered pats", tokend.TokenFilter{Kind: pat, UserID: u.ID, Page: tokend.Page{Limit: 3, Offset: 2}},
			[]*tokend.Token{patDel, patB}, 4},
		{"page past the end", tokend.TokenFilter{Kind: pat, Page: tokend.Page{Offset: 5}}, nil, 5},

		{"service tokens", tokend.TokenFilter{Kind: svc}, []*tokend.Token{svcUsed, svcDel, svcB}, 0},
		{"service tokens of account", tokend.TokenFilter{Kind: svc, AccountID: a.ID}, []*tokend.Token{svcUsed, svcDel}, 0},
		{"active service tokens of account", tokend.TokenFilter{Kind: svc, AccountID: a.ID, State: active},
			[]*tokend.Token{svcUsed}, 0},
		{"service tokens used before 6h", tokend.TokenFilter{Kind: svc, LastUsedBefore: at(6 * time.Hour)},
			[]*tokend.Token{svcUsed, svcDel, svcB}, 0},
		{"service tokens used after 1h", tokend.TokenFilter{Kind: svc, LastUsedAfter: at(time.Hour)},
			[]*tokend.Token{svcUsed}, 0},
		{"service tokens expiring", tokend.TokenFilter{Kind: svc, ExpiresBefore: at(2 * time.Hour)},
			[]*tokend.Token{svcB}, 0},

		{"legacy keys", tokend.TokenFilter{Kind: key}, []*tokend.Token{keyU, keyV}, 0},
		{"legacy key of user", tokend.TokenFilter{Kind: key, UserID: v.ID}, []*tokend.Token{keyV}, 0},
		{"legacy keys used after 1h", tokend.TokenFilter{Kind: key, LastUsedAfter: at(time.Hour)}, []*tokend.Token{keyU}, 0},
		{"legacy keys never used", tokend.TokenFilter{Kind: key, LastUsedBefore: at(time.Hour)}, []*tokend.Token{keyV}, 0},
		// Legacy keys belong to no account.
		{"legacy keys of an account", tokend.TokenFilter{Kind: key, AccountID: a.ID}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := st.ListTokens(ctx, tt.f)
			must(t, err, "ListTokens")
			wantIDs(t, "ListTokens", ids(got, tokenID), ids(tt.want, tokenID))
			wantTotal := tt.wantTotal
			if wantTotal == 0 {
				wantTotal = len(tt.want)
			}
			if total != wantTotal {
				t.Errorf("ListTokens total: got %d, want %d", total, wantTotal)
			}
		})
	}

	// Rows in a list are whole tokens, last use included.
	got, _, err := st.ListTokens(ctx, tokend.TokenFilter{Kind: pat, UserID: v.ID})
	must(t, err, "ListTokens")
	if len(got) == 1 {
		want := *patNew
		want.LastUsedAt, want.LastUsedIP = at(10*time.Hour), "192.0.2.1"
		tokenDiff(got[0], &want).report(t, "ListTokens[0]")
	}
}
