package tokend_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"tokend"
	"tokend/perm"
	"tokend/secret"
)

// roundTrips is a Store that records the reads a verification makes. Only the methods below
// are served; the embedded Store is nil, so that any other call panics instead of going
// uncounted.
type roundTrips struct {
	tokend.Store
	st    tokend.Store
	mu    sync.Mutex
	calls []string
}

func (r *roundTrips) call(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name)
}

// take returns the calls since the last take.
func (r *roundTrips) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

func (r *roundTrips) TokenForVerify(ctx context.Context, hash []byte) (*tokend.Token, *tokend.MemberAccess, error) {
	r.call("TokenForVerify")
	return r.st.TokenForVerify(ctx, hash)
}

func (r *roundTrips) Account(ctx context.Context, id tokend.AccountID) (*tokend.Account, error) {
	r.call("Account")
	return r.st.Account(ctx, id)
}

func (r *roundTrips) ListIPRules(ctx context.Context, accountID tokend.AccountID) ([]*tokend.IPRule, error) {
	r.call("ListIPRules")
	return r.st.ListIPRules(ctx, accountID)
}

// TestColdVerifyRoundTrips counts the store reads of a verification and its IP check, as a
// request makes them: a token's first use reads its row, its membership and its grants in one
// query; its account and the account's IP rules are read once per account (then cached for
// every token of it); a cached token reads nothing.
func TestColdVerifyRoundTrips(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		ctx := t.Context()
		setup := tokend.NewService(st, tokend.Options{PasswordParams: cheap})
		res, err := setup.Init(ctx, tokend.InitParams{AccountName: "trips", Plan: perm.PlanEnterprise,
			Email: "trips@example.com", Password: "trips password 123"})
		if err != nil {
			t.Fatal(err)
		}
		owner, err := setup.Authenticate(ctx, res.Token, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		acct := res.Account.ID
		_, pat, err := setup.CreatePAT(ctx, owner, acct, res.User.ID, tokend.PATInput{Name: "second"})
		if err != nil {
			t.Fatal(err)
		}
		_, service, err := setup.CreateServiceToken(ctx, owner, acct, tokend.ServiceTokenInput{Name: "trips",
			Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}})
		if err != nil {
			t.Fatal(err)
		}

		counted := &roundTrips{st: st}
		svc := tokend.NewService(counted, tokend.Options{})
		steps := []struct {
			name, raw string
			want      []string
		}{
			{"PAT, node cold", res.Token, []string{"TokenForVerify", "Account", "ListIPRules"}},
			{"PAT, account cached", pat, []string{"TokenForVerify"}},
			{"service token, account cached", service, []string{"TokenForVerify"}},
			{"PAT, cached", pat, nil},
			{"service token, cached", service, nil},
		}
		for _, s := range steps {
			p, err := svc.Authenticate(ctx, s.raw, "127.0.0.1")
			if err != nil {
				t.Fatalf("%s: Authenticate: %v", s.name, err)
			}
			if err := svc.CheckIP(ctx, p, "127.0.0.1"); err != nil {
				t.Fatalf("%s: CheckIP: %v", s.name, err)
			}
			if got := counted.take(); !slices.Equal(got, s.want) {
				t.Errorf("%s: store reads got %q, want %q", s.name, got, s.want)
			}
		}
	})
}

// TestRevokeLeakedKeepsTheRow: revoking a token by its string changes its state and nothing
// else of its row, although the lookup by hash reads only what verifying needs.
func TestRevokeLeakedKeepsTheRow(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		ctx := t.Context()
		svc := tokend.NewService(st, tokend.Options{PasswordParams: cheap})
		res, err := svc.Init(ctx, tokend.InitParams{AccountName: "leak", Plan: perm.PlanEnterprise,
			Email: "leak@example.com", Password: "leak password 123"})
		if err != nil {
			t.Fatal(err)
		}
		owner, err := svc.Authenticate(ctx, res.Token, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		_, raw, err := svc.CreatePAT(ctx, owner, res.Account.ID, res.User.ID, tokend.PATInput{Name: "leaked one"})
		if err != nil {
			t.Fatal(err)
		}
		h := secret.Hash(raw)
		before, err := st.TokenByHash(ctx, h[:])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RevokeLeaked(ctx, raw, "127.0.0.1", "scanner"); err != nil {
			t.Fatalf("RevokeLeaked: %v", err)
		}
		after, err := st.TokenUnscoped(ctx, before.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.State != tokend.StateDeleted {
			t.Errorf("State: got %d, want %d", after.State, tokend.StateDeleted)
		}
		if after.Name != before.Name || string(after.Hash) != string(before.Hash) || after.CreatedBy != before.CreatedBy ||
			after.UID != before.UID || !after.ExpiresAt.Equal(before.ExpiresAt) {
			t.Errorf("row after revocation: got name %q, uid %q, created by %d, expires %v, hash kept %v; want %q, %q, %d, %v, true",
				after.Name, after.UID, after.CreatedBy, after.ExpiresAt, string(after.Hash) == string(before.Hash),
				before.Name, before.UID, before.CreatedBy, before.ExpiresAt)
		}
	})
}
