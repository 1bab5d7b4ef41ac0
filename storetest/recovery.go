package storetest

import (
	"testing"
	"time"

	"tokend"
)

func testPasswordResets(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u, other := mustUser(t, st), mustUser(t, st)

	r := &tokend.PasswordReset{Hash: randomHash(), UserID: u.ID, AccountID: a.ID, CreatedBy: other.ID,
		CreatedAt: base, ExpiresAt: at(24 * time.Hour)}
	must(t, st.CreatePasswordReset(ctx, r), "CreatePasswordReset")
	if r.ID <= 0 {
		t.Fatalf("CreatePasswordReset: got ID %d, want > 0", r.ID)
	}
	got, err := st.PasswordResetByHash(ctx, r.Hash)
	must(t, err, "PasswordResetByHash")
	var d diffs
	eq(&d, "ID", got.ID, r.ID)
	eqBytes(&d, "Hash", got.Hash, r.Hash)
	eq(&d, "UserID", got.UserID, u.ID)
	eq(&d, "AccountID", got.AccountID, a.ID)
	eq(&d, "CreatedBy", got.CreatedBy, other.ID)
	eqTime(&d, "CreatedAt", got.CreatedAt, r.CreatedAt)
	eqTime(&d, "ExpiresAt", got.ExpiresAt, r.ExpiresAt)
	eqTime(&d, "UsedAt", got.UsedAt, time.Time{})
	d.report(t, "PasswordResetByHash")
	_, err = st.PasswordResetByHash(ctx, randomHash())
	wantCode(t, err, tokend.ENotFound, "PasswordResetByHash of an unknown hash")

	// Used once only: the second use is ENotFound, so two redemptions cannot both win.
	must(t, st.UsePasswordReset(ctx, r.ID, at(time.Hour)), "UsePasswordReset")
	wantCode(t, st.UsePasswordReset(ctx, r.ID, at(2*time.Hour)), tokend.ENotFound, "second UsePasswordReset")
	if got, err = st.PasswordResetByHash(ctx, r.Hash); err != nil || !got.UsedAt.Equal(at(time.Hour)) {
		t.Errorf("after use: got UsedAt %v (%v), want %v", got.UsedAt, err, at(time.Hour))
	}

	// DeletePasswordResets removes the user's unused links only, and nobody else's.
	unused := &tokend.PasswordReset{Hash: randomHash(), UserID: u.ID, AccountID: a.ID, CreatedAt: base, ExpiresAt: at(time.Hour)}
	theirs := &tokend.PasswordReset{Hash: randomHash(), UserID: other.ID, AccountID: a.ID, CreatedAt: base, ExpiresAt: at(time.Hour)}
	must(t, st.CreatePasswordReset(ctx, unused), "CreatePasswordReset")
	must(t, st.CreatePasswordReset(ctx, theirs), "CreatePasswordReset")
	n, err := st.DeletePasswordResets(ctx, u.ID)
	if err != nil || n != 1 {
		t.Errorf("DeletePasswordResets: got %d, %v; want 1", n, err)
	}
	if got, err := st.PasswordResetByHash(ctx, unused.Hash); tokend.ErrorCode(err) != tokend.ENotFound {
		t.Errorf("unused link after DeletePasswordResets: got %+v, %v; want not found", got, err)
	}
	if _, err := st.PasswordResetByHash(ctx, theirs.Hash); err != nil {
		t.Errorf("another user's link after DeletePasswordResets: got %v, want it kept", err)
	}
	byNobody := &tokend.PasswordReset{Hash: randomHash(), UserID: u.ID, AccountID: a.ID, CreatedAt: base, ExpiresAt: at(time.Hour)}
	must(t, st.CreatePasswordReset(ctx, byNobody), "CreatePasswordReset without CreatedBy")
	if got, err := st.PasswordResetByHash(ctx, byNobody.Hash); err != nil || got.CreatedBy != 0 {
		t.Errorf("a link issued by no user: got %+v (%v), want CreatedBy 0", got, err)
	}
}

func testDeleteUserSessions(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u, other := mustUser(t, st), mustUser(t, st)
	keep, gone1, gone2, theirs := newSession(u.ID, a.ID), newSession(u.ID, 0), newSession(u.ID, a.ID), newSession(other.ID, a.ID)
	for _, s := range []*tokend.Session{keep, gone1, gone2, theirs} {
		must(t, st.CreateSession(ctx, s), "CreateSession")
	}
	tests := []struct {
		name       string
		except     tokend.SessionID
		want       int
		keepExists bool
	}{
		{"all but one", keep.ID, 2, true},
		{"all", 0, 1, false},
		{"none left", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := st.DeleteUserSessions(ctx, u.ID, tt.except)
			if err != nil || n != tt.want {
				t.Errorf("got %d, %v; want %d", n, err, tt.want)
			}
			if _, err := st.SessionByHash(ctx, keep.Hash); (err == nil) != tt.keepExists {
				t.Errorf("kept session: got %v, want exists %v", err, tt.keepExists)
			}
			if _, err := st.SessionByHash(ctx, theirs.Hash); err != nil {
				t.Errorf("another user's session: got %v, want it kept", err)
			}
		})
	}
}
