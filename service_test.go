package tokend_test

import (
	"testing"

	"tokend"
	"tokend/password"
	"tokend/perm"
	"tokend/sqlite/sqlitetest"
)

// newService is a Service on an SQLite file of its own (ids offset by kind), with one Enterprise account and its
// owner, authenticated by the owner's PAT.
func newService(tb testing.TB) (*tokend.Service, *tokend.InitResult, *tokend.Principal) {
	tb.Helper()
	st := sqlitetest.Open(tb)
	svc := tokend.NewService(st, tokend.Options{PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1},
		SlowHashIterations: 1000})
	res, err := svc.Init(tb.Context(), tokend.InitParams{AccountName: "A", Plan: perm.PlanEnterprise,
		Email: "owner@example.com", Password: "a long enough password"})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.Authenticate(tb.Context(), res.Token, "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return svc, res, p
}

// TestNoOneChangesTheirOwnLicense states the rule directly: the owner, who may change licenses,
// may not change or remove their own; the membership is left as it was.
func TestNoOneChangesTheirOwnLicense(t *testing.T) {
	t.Parallel()
	svc, res, p := newService(t)
	ctx := t.Context()
	m, err := svc.Store().Membership(ctx, res.Account.ID, res.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	readOnly, deleted := perm.LicenseReadOnly, tokend.StateDeleted
	tests := []struct {
		name    string
		license *perm.License
		state   *tokend.State
		want    tokend.Code
	}{
		{"license", &readOnly, nil, tokend.EForbidden},
		{"removal", nil, &deleted, tokend.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.UpdateLicense(ctx, p, res.Account.ID, m.ID, tt.license, tt.state)
			if got := tokend.ErrorCode(err); got != tt.want {
				t.Errorf("got %q (%v), want %q", got, err, tt.want)
			}
			after, err := svc.Store().Membership(ctx, res.Account.ID, res.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.License != m.License || after.State != m.State {
				t.Errorf("membership: got %s/%d, want %s/%d unchanged", after.License, after.State, m.License, m.State)
			}
		})
	}
}
