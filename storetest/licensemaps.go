package storetest

import (
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func testLicenseMaps(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("CreateReadUpdate", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		m := &tokend.LicenseMap{AccountID: a.ID, License: perm.LicenseAnalyst, SSOGroups: []string{"data-team", "Analysts (EU)"},
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: at(time.Second)}
		must(t, st.CreateLicenseMap(ctx, m), "CreateLicenseMap")
		got, err := st.LicenseMap(ctx, a.ID, m.ID)
		must(t, err, "LicenseMap")
		licenseMapDiff(got, m).report(t, "LicenseMap")
		_, err = st.LicenseMap(ctx, b.ID, m.ID)
		wantCode(t, err, tokend.ENotFound, "LicenseMap(other account's id)")

		m.License, m.SSOGroups, m.State, m.UpdatedAt = perm.LicenseReadOnly, []string{}, tokend.StateDeleted, at(time.Hour)
		must(t, st.UpdateLicenseMap(ctx, m), "UpdateLicenseMap")
		got, err = st.LicenseMap(ctx, a.ID, m.ID)
		must(t, err, "LicenseMap")
		licenseMapDiff(got, m).report(t, "after update")
		wantCode(t, st.UpdateLicenseMap(ctx, &tokend.LicenseMap{ID: m.ID, AccountID: b.ID, License: perm.LicenseIT,
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}), tokend.ENotFound, "UpdateLicenseMap(other account)")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		var ms []tokend.LicenseMapID
		for i, l := range []perm.License{perm.LicenseReadOnly, perm.LicenseDeveloper, perm.LicenseIT} {
			m := &tokend.LicenseMap{AccountID: a.ID, License: l, SSOGroups: []string{string(l)}, State: tokend.StateActive,
				CreatedAt: at(time.Duration(i) * time.Minute), UpdatedAt: base}
			if i == 2 {
				m.State = tokend.StateDeleted
			}
			must(t, st.CreateLicenseMap(ctx, m), "CreateLicenseMap")
			ms = append(ms, m.ID)
		}
		must(t, st.CreateLicenseMap(ctx, &tokend.LicenseMap{AccountID: b.ID, License: perm.LicenseIT, State: tokend.StateActive,
			CreatedAt: base, UpdatedAt: base}), "CreateLicenseMap")
		for _, tt := range []struct {
			name      string
			f         tokend.LicenseMapFilter
			want      []tokend.LicenseMapID
			wantTotal int
		}{
			{"all", tokend.LicenseMapFilter{}, ms, 3},
			{"active", tokend.LicenseMapFilter{State: tokend.StateActive}, ms[:2], 2},
			{"pk", tokend.LicenseMapFilter{Select: tokend.IDSelect{Eq: int64(ms[1])}}, ms[1:2], 1},
			{"by license_type", tokend.LicenseMapFilter{Order: tokend.Order{Field: "license_type"}}, []tokend.LicenseMapID{ms[1], ms[2], ms[0]}, 3},
			{"by created_at descending", tokend.LicenseMapFilter{Order: tokend.Order{Field: "created_at", Desc: true}}, []tokend.LicenseMapID{ms[2], ms[1], ms[0]}, 3},
			{"page", tokend.LicenseMapFilter{Page: tokend.Page{Limit: 1, Offset: 1}}, ms[1:2], 3},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tt.f.AccountID = a.ID
				got, total, err := st.ListLicenseMaps(ctx, tt.f)
				must(t, err, "ListLicenseMaps")
				wantIDs(t, "ListLicenseMaps", ids(got, func(m *tokend.LicenseMap) tokend.LicenseMapID { return m.ID }), tt.want)
				if total != tt.wantTotal {
					t.Errorf("ListLicenseMaps total: got %d, want %d", total, tt.wantTotal)
				}
			})
		}
	})

	t.Run("CountLicenses", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		add := func(acct tokend.AccountID, l perm.License, state tokend.State) {
			u := mustUser(t, st)
			m := &tokend.Membership{AccountID: acct, UserID: u.ID, License: l, State: state, CreatedAt: base, UpdatedAt: base}
			must(t, st.CreateMembership(ctx, m), "CreateMembership")
		}
		add(a.ID, perm.LicenseDeveloper, tokend.StateActive)
		add(a.ID, perm.LicenseDeveloper, tokend.StateActive)
		add(a.ID, perm.LicenseReadOnly, tokend.StateActive)
		add(a.ID, perm.LicenseIT, tokend.StateDeleted)
		add(b.ID, perm.LicenseAnalyst, tokend.StateActive)
		got, err := st.CountLicenses(ctx, a.ID)
		must(t, err, "CountLicenses")
		want := map[perm.License]int{perm.LicenseDeveloper: 2, perm.LicenseReadOnly: 1}
		if len(got) != len(want) || got[perm.LicenseDeveloper] != 2 || got[perm.LicenseReadOnly] != 1 {
			t.Errorf("CountLicenses: got %v, want %v", got, want)
		}
	})
}

func licenseMapDiff(got, want *tokend.LicenseMap) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "License", got.License, want.License)
	eqStrings(&d, "SSOGroups", got.SSOGroups, want.SSOGroups)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}
