package storetest

import (
	"slices"
	"testing"
	"time"

	"tokend"
)

func testInactiveTokens(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	day := func(n int) time.Time { return base.AddDate(0, 0, n) }
	strict := mustAccount(t, st)
	strict.InactivityDays = 30
	must(t, st.UpdateAccount(ctx, strict), "UpdateAccount")
	got, err := st.Account(ctx, strict.ID)
	must(t, err, "Account")
	if got.InactivityDays != 30 {
		t.Fatalf("InactivityDays: got %d, want 30", got.InactivityDays)
	}
	lax := mustAccount(t, st) // no setting
	u := mustUser(t, st)

	neverUsed := mustToken(t, st, newPAT(strict.ID, u.ID))
	usedLately := mustToken(t, st, newServiceToken(strict.ID, u.ID))
	usedLately.LastUsedAt = day(20)
	must(t, st.RecordTokenUses(ctx, []tokend.TokenUse{{TokenID: usedLately.ID, At: day(20), IP: "192.0.2.20"}}), "RecordTokenUses")
	usedLately.LastUsedIP = "192.0.2.20"
	reenabled := mustToken(t, st, newPAT(strict.ID, u.ID))
	reenabled.EnabledAt = day(15)
	must(t, st.UpdateToken(ctx, reenabled.AccountID, reenabled), "UpdateToken")
	disabled := mustToken(t, st, newPAT(strict.ID, u.ID))
	disabled.DisabledAt = day(31)
	must(t, st.UpdateToken(ctx, disabled.AccountID, disabled), "UpdateToken")
	deleted := mustToken(t, st, newPAT(strict.ID, u.ID))
	deleted.State = tokend.StateDeleted
	must(t, st.UpdateToken(ctx, deleted.AccountID, deleted), "UpdateToken")
	mustToken(t, st, newPAT(lax.ID, u.ID)) // an account without the setting: never listed
	mustToken(t, st, newLegacyKey(u.ID))

	// Contract: DisabledAt and EnabledAt round-trip.
	back, err := st.Token(ctx, disabled.AccountID, disabled.ID)
	must(t, err, "Token")
	if !back.DisabledAt.Equal(day(31)) || !back.EnabledAt.IsZero() {
		t.Errorf("disabled token: got disabled %v enabled %v, want %v and zero", back.DisabledAt, back.EnabledAt, day(31))
	}
	tests := []struct {
		name string
		now  time.Time
		want []tokend.TokenID
	}{
		{"before anything is 30 days idle", day(29), nil},
		{"the never-used token at 30 days", day(30), []tokend.TokenID{neverUsed.ID}},
		{"re-enabling restarts the clock", day(45), []tokend.TokenID{neverUsed.ID, reenabled.ID}},
		{"a use restarts it too", day(50), []tokend.TokenID{neverUsed.ID, usedLately.ID, reenabled.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := st.InactiveTokens(ctx, tt.now, 100)
			must(t, err, "InactiveTokens")
			var ids []tokend.TokenID
			for _, x := range ts {
				ids = append(ids, x.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
	ts, err := st.InactiveTokens(ctx, day(60), 1)
	must(t, err, "InactiveTokens(limit 1)")
	if len(ts) != 1 || ts[0].ID != neverUsed.ID {
		t.Errorf("limit 1: got %d tokens, want the first by id", len(ts))
	}

	// Contract: DisableIdleToken claims a token only while it is active, not disabled and idle
	// since the given time; a second claim changes nothing.
	t.Run("DisableIdleToken", func(t *testing.T) {
		claims := []struct {
			name      string
			tok       *tokend.Token
			idleSince time.Time
			want      bool
		}{
			{"used after the cutoff", usedLately, day(19), false},
			{"deleted", deleted, day(60), false},
			{"disabled already", disabled, day(60), false},
			{"another account's id", &tokend.Token{ID: neverUsed.ID, AccountID: lax.ID}, day(60), false},
			{"idle", usedLately, day(20), true},
			{"claimed again", usedLately, day(20), false},
		}
		for _, c := range claims {
			got, err := st.DisableIdleToken(ctx, c.tok.AccountID, c.tok.ID, c.idleSince, day(61))
			must(t, err, "DisableIdleToken "+c.name)
			if got != c.want {
				t.Errorf("%s: got claimed %v, want %v", c.name, got, c.want)
			}
		}
		back, err := st.Token(ctx, usedLately.AccountID, usedLately.ID)
		must(t, err, "Token")
		if !back.DisabledAt.Equal(day(61)) || !back.UpdatedAt.Equal(day(61)) || back.State != tokend.StateActive {
			t.Errorf("claimed token: got disabled %v updated %v state %d, want %v, %v, active", back.DisabledAt, back.UpdatedAt, back.State, day(61), day(61))
		}
	})
}
