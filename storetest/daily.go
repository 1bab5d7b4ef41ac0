package storetest

import (
	"testing"
	"time"

	"tokend"
)

func testDailyUses(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	tok := mustToken(t, st, newPAT(a.ID, u.ID))
	other := mustToken(t, st, newPAT(a.ID, u.ID))
	day := func(n int) time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

	must(t, st.AddDailyUses(ctx, nil), "AddDailyUses(nil)")
	must(t, st.AddDailyUses(ctx, []tokend.DailyUse{
		{TokenID: tok.ID, Day: day(0), Count: 3},
		{TokenID: tok.ID, Day: day(2), Count: 5},
		{TokenID: other.ID, Day: day(0), Count: 7},
	}), "AddDailyUses")
	// Contract: counts of the same (token, day) add up, within a batch and across batches.
	must(t, st.AddDailyUses(ctx, []tokend.DailyUse{
		{TokenID: tok.ID, Day: day(2), Count: 1},
		{TokenID: tok.ID, Day: day(2), Count: 1},
	}), "AddDailyUses again")

	tests := []struct {
		name  string
		token tokend.TokenID
		since time.Time
		want  []tokend.DailyUse
	}{
		{"all days, oldest first", tok.ID, day(-10), []tokend.DailyUse{{TokenID: tok.ID, Day: day(0), Count: 3}, {TokenID: tok.ID, Day: day(2), Count: 7}}},
		{"since is inclusive", tok.ID, day(2), []tokend.DailyUse{{TokenID: tok.ID, Day: day(2), Count: 7}}},
		{"after the last day", tok.ID, day(3), nil},
		{"another token", other.ID, day(-1), []tokend.DailyUse{{TokenID: other.ID, Day: day(0), Count: 7}}},
		{"no such token", 999999, day(-1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.DailyUses(ctx, tt.token, tt.since)
			must(t, err, "DailyUses")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d days %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i].TokenID != tt.want[i].TokenID || !got[i].Day.Equal(tt.want[i].Day) || got[i].Count != tt.want[i].Count {
					t.Errorf("day %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	// Contract: a use of a token that does not exist fails the batch with ENotFound.
	wantCode(t, st.AddDailyUses(ctx, []tokend.DailyUse{{TokenID: 999999, Day: day(0), Count: 1}}), tokend.ENotFound, "AddDailyUses(missing token)")
}
