package storetest

import (
	"slices"
	"testing"
	"time"

	"tokend"
)

func testIPRules(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	u := mustUser(t, st)

	t.Run("Switch", func(t *testing.T) {
		a.IPRestrictionsEnabled = true
		must(t, st.UpdateAccount(ctx, a), "UpdateAccount")
		got, err := st.Account(ctx, a.ID)
		must(t, err, "Account")
		if !got.IPRestrictionsEnabled {
			t.Errorf("got IPRestrictionsEnabled false, want true")
		}
		a.IPRestrictionsEnabled = false
		must(t, st.UpdateAccount(ctx, a), "UpdateAccount")
		if got, _ := st.Account(ctx, a.ID); got.IPRestrictionsEnabled {
			t.Errorf("got IPRestrictionsEnabled true after switching off, want false")
		}
	})

	allow := &tokend.IPRule{AccountID: a.ID, Name: "office", Description: "HQ", Type: tokend.IPAllow,
		CIDRs: []string{"10.0.0.0/8", "2001:db8::/32"}, State: tokend.StateActive, CreatedBy: u.ID, CreatedAt: base, UpdatedAt: base}
	deny := &tokend.IPRule{AccountID: a.ID, Name: "guest wifi", Type: tokend.IPDeny, CIDRs: []string{"10.9.0.0/16"},
		State: tokend.StateActive, CreatedByST: "abcdefghij", CreatedAt: base, UpdatedAt: base}
	other := &tokend.IPRule{AccountID: b.ID, Name: "theirs", Type: tokend.IPAllow, CIDRs: []string{"192.0.2.0/24"},
		State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
	for _, r := range []*tokend.IPRule{allow, deny, other} {
		must(t, st.CreateIPRule(ctx, r), "CreateIPRule")
		if r.ID <= 0 {
			t.Fatalf("got id %d, want > 0", r.ID)
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		for _, want := range []*tokend.IPRule{allow, deny} {
			got, err := st.IPRule(ctx, a.ID, want.ID)
			must(t, err, "IPRule")
			if got.Name != want.Name || got.Description != want.Description || got.Type != want.Type ||
				!slices.Equal(got.CIDRs, want.CIDRs) || got.State != want.State || got.CreatedBy != want.CreatedBy ||
				got.CreatedByST != want.CreatedByST || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		}
	})

	t.Run("AccountBoundary", func(t *testing.T) {
		_, err := st.IPRule(ctx, b.ID, allow.ID)
		wantCode(t, err, tokend.ENotFound, "IPRule(other account)")
		stolen := *allow
		stolen.AccountID = b.ID
		wantCode(t, st.UpdateIPRule(ctx, &stolen), tokend.ENotFound, "UpdateIPRule(other account)")
	})

	t.Run("UpdateAndList", func(t *testing.T) {
		allow.CIDRs = []string{"172.16.0.0/12"}
		allow.UpdatedAt = base.Add(time.Hour)
		must(t, st.UpdateIPRule(ctx, allow), "UpdateIPRule")
		deny.State = tokend.StateDeleted
		must(t, st.UpdateIPRule(ctx, deny), "UpdateIPRule")
		// Contract: ListIPRules returns the account's active rules by id.
		got, err := st.ListIPRules(ctx, a.ID)
		must(t, err, "ListIPRules")
		if len(got) != 1 || got[0].ID != allow.ID || !slices.Equal(got[0].CIDRs, []string{"172.16.0.0/12"}) {
			t.Errorf("got %+v, want only the updated allow rule", got)
		}
		if g, err := st.IPRule(ctx, a.ID, deny.ID); err != nil || g.State != tokend.StateDeleted {
			t.Errorf("deleted rule: got %+v, %v; want it with state 2", g, err)
		}
	})
}
