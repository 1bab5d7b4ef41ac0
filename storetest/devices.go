package storetest

import (
	"testing"
	"time"

	"tokend"
)

func newDevice() *tokend.DeviceAuthorization {
	return &tokend.DeviceAuthorization{DeviceHash: randomHash(), UserCodeHash: randomHash(), ClientID: "tokend-cli",
		DeviceName: "laptop-" + unique(), IP: "192.0.2.9", UserAgent: "tokend-cli/test", State: tokend.DevicePending,
		Interval: 5 * time.Second, CreatedAt: base, ExpiresAt: at(10 * time.Minute)}
}

func deviceDiff(got, want *tokend.DeviceAuthorization) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eqBytes(&d, "DeviceHash", got.DeviceHash, want.DeviceHash)
	eqBytes(&d, "UserCodeHash", got.UserCodeHash, want.UserCodeHash)
	eq(&d, "ClientID", got.ClientID, want.ClientID)
	eq(&d, "DeviceName", got.DeviceName, want.DeviceName)
	eq(&d, "IP", got.IP, want.IP)
	eq(&d, "UserAgent", got.UserAgent, want.UserAgent)
	eq(&d, "State", got.State, want.State)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "TokenID", got.TokenID, want.TokenID)
	eq(&d, "Interval", got.Interval, want.Interval)
	eqTime(&d, "LastPolledAt", got.LastPolledAt, want.LastPolledAt)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return d
}

// testDeviceAuthorizations checks device authorizations. Contract:
//   - found by either hash; a hash nobody holds is ENotFound; hashes are unique (EConflict);
//   - an update applies only while the stored state is the one given (EConflict otherwise, so
//     that an approval is used once); a missing row is ENotFound;
//   - DeleteExpiredDeviceAuthorizations deletes those expired at or before now and counts them.
func testDeviceAuthorizations(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	pat := mustToken(t, st, newPAT(a.ID, u.ID))

	d := newDevice()
	must(t, st.CreateDeviceAuthorization(ctx, d), "CreateDeviceAuthorization")
	if d.ID <= 0 {
		t.Fatalf("CreateDeviceAuthorization: got ID %d, want > 0", d.ID)
	}
	for name, get := range map[string]func() (*tokend.DeviceAuthorization, error){
		"by device hash": func() (*tokend.DeviceAuthorization, error) {
			return st.DeviceAuthorizationByDeviceHash(ctx, d.DeviceHash)
		},
		"by user hash": func() (*tokend.DeviceAuthorization, error) {
			return st.DeviceAuthorizationByUserHash(ctx, d.UserCodeHash)
		},
	} {
		got, err := get()
		must(t, err, name)
		deviceDiff(got, d).report(t, name)
	}
	_, err := st.DeviceAuthorizationByDeviceHash(ctx, randomHash())
	wantCode(t, err, tokend.ENotFound, "DeviceAuthorizationByDeviceHash(unknown)")
	_, err = st.DeviceAuthorizationByUserHash(ctx, randomHash())
	wantCode(t, err, tokend.ENotFound, "DeviceAuthorizationByUserHash(unknown)")
	dup := newDevice()
	dup.UserCodeHash = d.UserCodeHash
	wantCode(t, st.CreateDeviceAuthorization(ctx, dup), tokend.EConflict, "CreateDeviceAuthorization(same user code)")

	// A poll, then the approval, then the one use.
	d.LastPolledAt, d.Interval = at(time.Minute), 10*time.Second
	must(t, st.UpdateDeviceAuthorization(ctx, d, tokend.DevicePending), "UpdateDeviceAuthorization(poll)")
	d.State, d.UserID, d.AccountID = tokend.DeviceApproved, u.ID, a.ID
	must(t, st.UpdateDeviceAuthorization(ctx, d, tokend.DevicePending), "UpdateDeviceAuthorization(approve)")
	stale := *d
	stale.State = tokend.DeviceDenied
	wantCode(t, st.UpdateDeviceAuthorization(ctx, &stale, tokend.DevicePending), tokend.EConflict, "UpdateDeviceAuthorization(deny after approval)")
	d.State, d.TokenID = tokend.DeviceUsed, pat.ID
	must(t, st.UpdateDeviceAuthorization(ctx, d, tokend.DeviceApproved), "UpdateDeviceAuthorization(use)")
	wantCode(t, st.UpdateDeviceAuthorization(ctx, d, tokend.DeviceApproved), tokend.EConflict, "UpdateDeviceAuthorization(use twice)")
	got, err := st.DeviceAuthorizationByDeviceHash(ctx, d.DeviceHash)
	must(t, err, "DeviceAuthorizationByDeviceHash")
	deviceDiff(got, d).report(t, "after use")
	missing := newDevice()
	missing.ID = 999999
	wantCode(t, st.UpdateDeviceAuthorization(ctx, missing, tokend.DevicePending), tokend.ENotFound, "UpdateDeviceAuthorization(missing)")

	later := newDevice()
	later.ExpiresAt = at(time.Hour)
	must(t, st.CreateDeviceAuthorization(ctx, later), "CreateDeviceAuthorization(later)")
	n, err := st.DeleteExpiredDeviceAuthorizations(ctx, at(10*time.Minute))
	must(t, err, "DeleteExpiredDeviceAuthorizations")
	if n != 1 {
		t.Errorf("DeleteExpiredDeviceAuthorizations: got %d, want 1", n)
	}
	_, err = st.DeviceAuthorizationByDeviceHash(ctx, d.DeviceHash)
	wantCode(t, err, tokend.ENotFound, "expired one after the sweep")
	_, err = st.DeviceAuthorizationByDeviceHash(ctx, later.DeviceHash)
	must(t, err, "live one after the sweep")
}
