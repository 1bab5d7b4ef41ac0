package storetest

import (
	"slices"
	"testing"
	"time"

	"tokend"
)

func testRotationChains(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	other := mustAccount(t, st)
	u := mustUser(t, st)
	// first → second → third, a rotation chain; apart, a token of the same user outside it.
	first := mustToken(t, st, newPAT(a.ID, u.ID))
	next := func(prev *tokend.Token, overlap time.Duration) *tokend.Token {
		tok := newPAT(a.ID, u.ID)
		tok.RotatedFrom, tok.FirstUseOverlap = prev.ID, overlap
		return mustToken(t, st, tok)
	}
	second := next(first, 0)
	third := next(second, 10*time.Minute)
	apart := mustToken(t, st, newPAT(a.ID, u.ID))

	// Contract: RotatedFrom and FirstUseOverlap are written with the token; they are seen
	// through PendingOverlaps and RevokeRotationChain, not read back with it.

	t.Run("PendingOverlaps", func(t *testing.T) {
		// Contract: a rotation is pending once its new token has a recorded use; the first use
		// is kept when later uses are recorded.
		ps, err := st.PendingOverlaps(ctx, 10)
		must(t, err, "PendingOverlaps")
		if len(ps) != 0 {
			t.Fatalf("before any use: got %+v, want none", ps)
		}
		must(t, st.RecordTokenUses(ctx, []tokend.TokenUse{{TokenID: third.ID, At: at(time.Hour), IP: "192.0.2.1"}}), "RecordTokenUses")
		must(t, st.RecordTokenUses(ctx, []tokend.TokenUse{{TokenID: third.ID, At: at(2 * time.Hour), IP: "192.0.2.1"}}), "RecordTokenUses")
		ps, err = st.PendingOverlaps(ctx, 10)
		must(t, err, "PendingOverlaps")
		want := tokend.PendingOverlap{AccountID: a.ID, TokenID: third.ID, RotatedFrom: second.ID,
			Overlap: 10 * time.Minute, FirstUsedAt: at(time.Hour)}
		if len(ps) != 1 || ps[0].AccountID != want.AccountID || ps[0].TokenID != want.TokenID ||
			ps[0].RotatedFrom != want.RotatedFrom || ps[0].Overlap != want.Overlap || !ps[0].FirstUsedAt.Equal(want.FirstUsedAt) {
			t.Fatalf("got %+v, want [%+v]", ps, want)
		}
		// Contract: StartOverlap clears the wait once; the rotation is no longer pending.
		for i, want := range []bool{true, false} {
			started, err := st.StartOverlap(ctx, third.AccountID, third.ID)
			must(t, err, "StartOverlap")
			if started != want {
				t.Errorf("StartOverlap #%d: got %v, want %v", i+1, started, want)
			}
		}
		if ps, _ := st.PendingOverlaps(ctx, 10); len(ps) != 0 {
			t.Errorf("after StartOverlap: got %+v, want none pending", ps)
		}
	})

	t.Run("RevokeRotationChain", func(t *testing.T) {
		// Contract: another account cannot reach the chain; from its middle, the chain is
		// revoked both ways and nothing else; a second call changes and returns nothing.
		ts, err := st.RevokeRotationChain(ctx, other.ID, second.ID, at(3*time.Hour))
		must(t, err, "RevokeRotationChain (another account)")
		if len(ts) != 0 {
			t.Fatalf("another account: got %d tokens revoked, want 0", len(ts))
		}
		ts, err = st.RevokeRotationChain(ctx, a.ID, second.ID, at(3*time.Hour))
		must(t, err, "RevokeRotationChain")
		var ids []tokend.TokenID
		for _, x := range ts {
			ids = append(ids, x.ID)
			if x.State != tokend.StateDeleted || !x.UpdatedAt.Equal(at(3*time.Hour)) {
				t.Errorf("token %d: got state %d updated %v, want deleted at %v", x.ID, x.State, x.UpdatedAt, at(3*time.Hour))
			}
		}
		slices.Sort(ids)
		if want := []tokend.TokenID{first.ID, second.ID, third.ID}; !slices.Equal(ids, want) {
			t.Errorf("revoked: got %v, want %v", ids, want)
		}
		for _, tok := range []*tokend.Token{first, second, third, apart} {
			got, err := st.Token(ctx, a.ID, tok.ID)
			must(t, err, "Token")
			if want := map[bool]tokend.State{true: tokend.StateActive, false: tokend.StateDeleted}[tok == apart]; got.State != want {
				t.Errorf("token %d: got state %d, want %d", tok.ID, got.State, want)
			}
		}
		ts, err = st.RevokeRotationChain(ctx, a.ID, third.ID, at(4*time.Hour))
		must(t, err, "RevokeRotationChain again")
		if len(ts) != 0 {
			t.Errorf("again: got %d tokens revoked, want 0", len(ts))
		}
	})
}
